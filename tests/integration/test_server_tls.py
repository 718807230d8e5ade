# SPDX-License-Identifier: MIT
"""TLS with openssl s_client: ALPN http/1.1, SNI choosing among certificates,
TLS 1.2 and 1.3, no client-initiated renegotiation, a malformed ClientHello;
the plain listener keeps serving beside it."""
import os
import socket
import subprocess

from ghserver import GhServer, read_all


def s_client(port, *args, stdin=b"GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-ign_eof"] +
                       list(args), input=stdin, capture_output=True, timeout=20)
    return r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")


def main():
    with GhServer("location /whoami { handler whoami; }", https=True,
                  cert_names=("localhost", "other.test")) as srv:
        port = srv.port(tls=True)
        out = s_client(port, "-servername", "localhost", "-alpn", "h2,http/1.1")
        assert "ALPN protocol: http/1.1" in out, out
        assert "subject=CN = localhost" in out, out
        assert '"alpn":"http/1.1"' in out and "HTTP/1.1 200 OK" in out

        # SNI picks the second certificate; an unknown name gets the default one.
        out = s_client(port, "-servername", "other.test")
        assert "subject=CN = other.test" in out, out
        assert '"server_name":"other.test"' in out
        out = s_client(port, "-servername", "unknown.example")
        assert "subject=CN = localhost" in out, out

        for proto, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            out = s_client(port, proto, "-servername", "localhost")
            assert "Protocol  : %s" % name in out or "Protocol: %s" % name in out, out
            assert '"protocol":"%s"' % name in out, out

        # TLS 1.1 is refused.
        out = s_client(port, "-tls1_1", stdin=b"")
        assert "HTTP/1.1 200" not in out

        # Client-initiated renegotiation (TLS 1.2, "R" command) is refused.
        r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-tls1_2"],
                           input=b"R\n", capture_output=True, timeout=20)
        text = (r.stdout + r.stderr).decode(errors="replace")
        assert "RENEGOTIATING" in text
        assert "no renegotiation" in text or "alert" in text, text

        # A malformed ClientHello: the connection closes, nothing crashes.
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"\x16\x03\x01\x00\x30\x01\x00\x00\x2c\x03\x03" + b"\xff" * 44)
        read_all(s, timeout=3)
        s.close()
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")  # HTTP on the TLS port
        read_all(s, timeout=3)
        s.close()

        # Session resumption with a ticket.
        sess = srv.dir + "/sess.pem"
        s_client(port, "-tls1_2", "-sess_out", sess)
        out = s_client(port, "-tls1_2", "-sess_in", sess)
        assert "Reused, TLSv1.2" in out, out

        # Both listeners still serve.
        out = s_client(port, "-servername", "localhost")
        assert "HTTP/1.1 200 OK" in out
        s = srv.connect()
        s.sendall(b"GET /whoami HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        assert read_all(s).startswith(b"HTTP/1.1 200 OK")
        s.close()

    # Resumption with and without tickets (then a server-side session cache), TLS
    # 1.2 and 1.3, and one TLS 1.3 ticket per full handshake either way; with
    # tls_session_cache off as well, no ticket and no resumption.
    for tickets, cache in (("on", ""), ("off", ""), ("off", "tls_session_cache off;")):
        with GhServer("tls_session_tickets %s;\n%s\nlocation /whoami { handler whoami; }"
                      % (tickets, cache), https=True, http=False) as srv:
            port = srv.port(tls=True)
            resumes = cache == ""
            for proto, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
                sess = srv.dir + "/sess-%s.pem" % name
                out = s_client(port, proto, "-msg", "-sess_out", sess)
                assert "HTTP/1.1 200 OK" in out and "New, %s" % name in out, out
                if name == "TLSv1.3":
                    n = out.count("NewSessionTicket")
                    assert n == (1 if resumes else 0), \
                        "tickets %s %s: %d NewSessionTicket messages" % (tickets, cache, n)
                if not os.path.exists(sess):
                    assert not resumes, (tickets, out)
                    continue
                out = s_client(port, proto, "-sess_in", sess)
                assert "HTTP/1.1 200 OK" in out, out
                assert ("Reused, %s" % name in out) == resumes, (tickets, cache, out)
            srv.assert_alive()
    print("ok")


if __name__ == "__main__":
    main()
