import Foundation

/// A private CA with a server certificate for 127.0.0.1 and a client certificate, for TLS tests.
///
/// Made once with openssl (EC P-256, valid for 100 years); these keys protect nothing but tests.
enum TLSFixtures {
    /// The test CA (EC P-256, valid until 2126).
    static let ca = """
        -----BEGIN CERTIFICATE-----
        MIIBkDCCATWgAwIBAgIUI0hwVWpRAn3IpDckBdM6DfAC3IswCgYIKoZIzj0EAwIw
        HDEaMBgGA1UEAwwRaG9va3Nwb29sIHRlc3QgQ0EwIBcNMjYxMTI5MDU1ODM4WhgP
        MjEyNjExMDUwNTU4MzhaMBwxGjAYBgNVBAMMEWhvb2tzcG9vbCB0ZXN0IENBMFkw
        EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/gBvtdIUqLqDZxVUTcQPZ5ddnrHkrjzN
        kCR3TtulqfW+Bi4gujRV1WqKjBPWgptSKQVAoZ0GTxgbaoEozeHu2qNTMFEwHQYD
        VR0OBBYEFJBQrDTIQAovBf57jyaM/wg2RJN8MB8GA1UdIwQYMBaAFJBQrDTIQAov
        Bf57jyaM/wg2RJN8MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIh
        AOqwTLddsYv3bwis7nJQGkGcGiuLG3s5Tj0IZlzJdVmjAiEAnwxWZn9FX2lQeRnZ
        oD26HE8aAVZ0wlT9mEM74HmsqcE=
        -----END CERTIFICATE-----
        """

    /// A server certificate for IP 127.0.0.1, signed by `ca`.
    static let serverCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBpjCCAU2gAwIBAgIUGcL+Ub8xI3gUHLNTxF/7FmzsRT0wCgYIKoZIzj0EAwIw
        HDEaMBgGA1UEAwwRaG9va3Nwb29sIHRlc3QgQ0EwIBcNMjYxMTI5MDU1ODM4WhgP
        MjEyNjExMDUwNTU4MzhaMBQxEjAQBgNVBAMMCTEyNy4wLjAuMTBZMBMGByqGSM49
        AgEGCCqGSM49AwEHA0IABH8yJpeLLNaPoaPuSiEeRfupIimoMe4kxE+0o62B6nTg
        rDBrhzVriv4FFnV6EaZog8bErP/ACdSrpGUhqIYu2vmjczBxMA8GA1UdEQQIMAaH
        BH8AAAEwCQYDVR0TBAIwADATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4EFgQU
        6fqViNfEICnAkKlRQTCUelbbSsQwHwYDVR0jBBgwFoAUkFCsNMhACi8F/nuPJoz/
        CDZEk3wwCgYIKoZIzj0EAwIDRwAwRAIgFvjOxNWwF4YwW5j+nUOCxywM0n6G0x7Q
        gHyFYUWbaQQCIFZboRUavKfFFNiJbT/0Qsla/TaMm3QraGWt0Y1andBc
        -----END CERTIFICATE-----
        """

    /// The key of `serverCertificate`.
    static let serverKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1/addXHUHuN14RTY
        TpijNtxTZV+MJ4C30x8h8/dDHXWhRANCAAR/MiaXiyzWj6Gj7kohHkX7qSIpqDHu
        JMRPtKOtgep04Kwwa4c1a4r+BRZ1ehGmaIPGxKz/wAnUq6RlIaiGLtr5
        -----END PRIVATE KEY-----
        """

    /// A client certificate (clientAuth), signed by `ca`, for mutual TLS.
    static let clientCertificate = """
        -----BEGIN CERTIFICATE-----
        MIIBojCCAUigAwIBAgIUGcL+Ub8xI3gUHLNTxF/7FmzsRT4wCgYIKoZIzj0EAwIw
        HDEaMBgGA1UEAwwRaG9va3Nwb29sIHRlc3QgQ0EwIBcNMjYxMTI5MDU1ODM5WhgP
        MjEyNjExMDUwNTU4MzlaMCAxHjAcBgNVBAMMFWhvb2tzcG9vbCB0ZXN0IGNsaWVu
        dDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABN0sc3Dh6222BU48bsXXd37li3Pt
        OphwtP4rYXXb29PjPIu47FuUPZ2ati40c2oqAttBklVVYYWvEExtI9o7LUujYjBg
        MAkGA1UdEwQCMAAwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0OBBYEFI+tXEth
        zf/vHWiCZfz0Q+jOGEmFMB8GA1UdIwQYMBaAFJBQrDTIQAovBf57jyaM/wg2RJN8
        MAoGCCqGSM49BAMCA0gAMEUCIGe+eRAN20nHje2atPgTbcYwtIxZGjNtBPwFn883
        mkdUAiEAqEbqP8gHf+jGJ6ONX+WMPBB1wV3BP924FhhA54Ros5U=
        -----END CERTIFICATE-----
        """

    /// The key of `clientCertificate`.
    static let clientKey = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg07YNKQTeW7SBXnZq
        u+dYWv7ad39YB+BsGu3MNUrc8TahRANCAATdLHNw4etttgVOPG7F13d+5Ytz7TqY
        cLT+K2F129vT4zyLuOxblD2dmrYuNHNqKgLbQZJVVWGFrxBMbSPaOy1L
        -----END PRIVATE KEY-----
        """

    /// Writes every fixture into `folder` as `ca.pem`, `server.pem`, `server.key`, `client.pem`, `client.key`.
    static func write(to folder: String) throws {
        let files = ["ca.pem": ca, "server.pem": serverCertificate, "server.key": serverKey, "client.pem": clientCertificate, "client.key": clientKey]
        for (name, text) in files {
            try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: "\(folder)/\(name)"))
        }
    }
}
