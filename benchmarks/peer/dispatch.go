// The program a Go engineer would write instead of hookspool, tuned as one would tune it: a shared
// http.Transport with as many connections per host as requests in flight, N worker goroutines
// reading jobs from a channel, a Standard Webhooks signature per request, redirects off, a 10 s
// timeout. It reads the same NDJSON files, routes each event by its type, and exits 1 unless every
// delivery got a 2xx. It journals nothing and writes no report.
//
//	dispatch -endpoints FILE -secret whsec_... [-concurrency 64] [-per-endpoint 0] FILE...
//
// The endpoints file has one `TYPE URL` per line (TYPE `*` takes every event).
package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type endpoint struct {
	url   string
	slots chan struct{} // nil: no per-endpoint cap
}

type job struct {
	id, body []byte
	to       *endpoint
}

func main() {
	endpointsFile := flag.String("endpoints", "", "file of `TYPE URL` lines")
	secretText := flag.String("secret", "", "whsec_ secret")
	concurrency := flag.Int("concurrency", 64, "requests in flight")
	perEndpoint := flag.Int("per-endpoint", 0, "requests in flight per endpoint (0: no cap)")
	timeout := flag.Duration("timeout", 10*time.Second, "request timeout")
	flag.Parse()

	secret, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(*secretText, "whsec_"))
	if err != nil {
		fail("secret: %v", err)
	}
	routes := map[string][]*endpoint{}
	lines, err := os.ReadFile(*endpointsFile)
	if err != nil {
		fail("%v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
		fields := strings.Fields(line)
		if len(fields) != 2 {
			fail("endpoints: bad line %q", line)
		}
		e := &endpoint{url: fields[1]}
		if *perEndpoint > 0 {
			e.slots = make(chan struct{}, *perEndpoint)
		}
		routes[fields[0]] = append(routes[fields[0]], e)
	}

	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: *timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        *concurrency,
		MaxIdleConnsPerHost: *concurrency,
		MaxConnsPerHost:     *concurrency,
		IdleConnTimeout:     90 * time.Second,
	}
	client := &http.Client{
		Transport:     transport,
		Timeout:       *timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	jobs := make(chan job, *concurrency*4)
	var delivered, failed atomic.Int64
	var workers sync.WaitGroup
	for i := 0; i < *concurrency; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			mac := hmac.New(sha256.New, secret)
			for j := range jobs {
				if j.to.slots != nil {
					j.to.slots <- struct{}{}
				}
				if post(client, mac, j) {
					delivered.Add(1)
				} else {
					failed.Add(1)
				}
				if j.to.slots != nil {
					<-j.to.slots
				}
			}
		}()
	}

	type header struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	for _, path := range flag.Args() {
		file, err := os.Open(path)
		if err != nil {
			fail("%v", err)
		}
		scanner := bufio.NewScanner(file)
		scanner.Buffer(make([]byte, 1<<20), 1<<20)
		for scanner.Scan() {
			body := append([]byte(nil), scanner.Bytes()...)
			var h header
			if err := json.Unmarshal(body, &h); err != nil {
				fail("%s: %v", path, err)
			}
			for _, e := range append(routes[h.Type], routes["*"]...) {
				jobs <- job{id: []byte(h.ID), body: body, to: e}
			}
		}
		if err := scanner.Err(); err != nil {
			fail("%s: %v", path, err)
		}
		file.Close()
	}
	close(jobs)
	workers.Wait()
	fmt.Printf("delivered %d failed %d\n", delivered.Load(), failed.Load())
	if failed.Load() > 0 {
		os.Exit(1)
	}
}

// post sends one signed delivery; true on a 2xx.
func post(client *http.Client, mac hash, j job) bool {
	timestamp := strconv.FormatInt(time.Now().Unix(), 10)
	mac.Reset()
	mac.Write(j.id)
	mac.Write([]byte{'.'})
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(j.body)
	signature := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	request, err := http.NewRequest(http.MethodPost, j.to.url, bytes.NewReader(j.body))
	if err != nil {
		return false
	}
	request.Header.Set("Content-Type", "application/json")
	request.Header.Set("webhook-id", string(j.id))
	request.Header.Set("webhook-timestamp", timestamp)
	request.Header.Set("webhook-signature", signature)
	response, err := client.Do(request)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, response.Body)
	response.Body.Close()
	return response.StatusCode/100 == 2
}

type hash interface {
	io.Writer
	Reset()
	Sum([]byte) []byte
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "dispatch: "+format+"\n", args...)
	os.Exit(2)
}
