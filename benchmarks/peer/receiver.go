// A webhook receiver for the benchmark: answers every request with 200 after a set delay, on one
// port or many, reading and discarding the body. Once every port listens, prints their numbers on
// one line, space-separated.
//
//	receiver -delay 50ms [-count 200]
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	delay := flag.Duration("delay", 0, "how long each answer waits")
	count := flag.Int("count", 1, "how many ports (chosen by the kernel, on 127.0.0.1)")
	flag.Parse()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if *delay > 0 {
			time.Sleep(*delay)
		}
		w.Header().Set("Content-Length", "3")
		w.Write([]byte("ok\n"))
	})
	ports := make([]string, 0, *count)
	for i := 0; i < *count; i++ {
		listener, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, "receiver:", err)
			os.Exit(1)
		}
		ports = append(ports, strconv.Itoa(listener.Addr().(*net.TCPAddr).Port))
		server := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
		go server.Serve(listener)
	}
	fmt.Println(strings.Join(ports, " "))
	select {}
}
