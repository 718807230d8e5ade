# SPDX-License-Identifier: MIT
"""examples/vhosts-sni.conf, run as written (ports and paths moved by
tests/harness/ghexamples.py):

  - curl to each of www, api and files.example.org verifies that site's own
    certificate (curl checks the name against the certificate it got);
  - Python's ssl module reads the certificate served for each SNI name, and
    for a client sending none (the first one, www.example.org);
  - each site answers from its own host block: www's static index (also for
    example.org), api's whole site through the proxy, files' directory
    without index (404 for the directory, the file served); a site's paths
    are not reachable through another site's name (www has no /v1/, api's
    backend never sees /report.txt); /healthz and the 404 for other Host
    names come from the top-level locations, which no host block falls back
    to.
"""
import os
import shutil
import socket
import ssl

import ghexamples

NAME = "vhosts-sni.conf"
HOSTS = ("www.example.org", "api.example.org", "files.example.org")


def served_names(port, ca, sni):
    """The DNS subjectAltNames of the certificate served for sni (None: no SNI)."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False  # read what is served, whatever the name
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        with ctx.wrap_socket(raw, server_hostname=sni) as s:
            cert = s.getpeercert()
    return [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]


def raw(port, ca, host_header, path):
    """GET path over TLS (SNI www.example.org) with this Host; the whole reply."""
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        with ctx.wrap_socket(sock, server_hostname="www.example.org") as t:
            t.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                      % (path.encode(), host_header.encode()))
            data = b""
            while True:
                chunk = t.recv(4096)
                if not chunk:
                    return data
                data += chunk


def main():
    backend = ghexamples.RecordingBackend()
    root = ghexamples.tmp_root(NAME)
    try:
        path = ghexamples.prepare(NAME, root, backends={8081: backend.port})
        ca = os.path.join(root, "etc/tls/ca.pem")
        with open(os.path.join(root, "www/files/report.txt"), "w") as f:
            f.write("report\n")
        with ghexamples.ExampleServer(path, os.path.join(root, "log/error.log")) as srv:
            port = srv.https_port()
            for host in HOSTS:
                assert served_names(port, ca, host) == [host], (host, served_names(port, ca, host))
            assert served_names(port, ca, None) == ["www.example.org"]
            print("ok   each host name gets its own certificate; no SNI: www.example.org")

            def get(host, path):
                rc, status, _, body = ghexamples.curl("https://%s:%d%s" % (host, port, path),
                                                      host, port, ca)
                assert rc == 0, (host, path, rc)
                return status, body

            assert get("www.example.org", "/") == (200, "<p>www</p>\n")
            # The block's second name (no certificate of its own: read raw).
            assert raw(port, ca, "example.org", "/").startswith(b"HTTP/1.1 200")
            assert get("WWW.example.org", "/")[0] == 200        # case ignored
            assert get("api.example.org", "/v1/items") == (200, "from app")
            assert backend.heads[0][0] == "GET /v1/items HTTP/1.1", backend.heads
            assert backend.header(0, "x-forwarded-host") == ["api.example.org:%d" % port]
            assert get("files.example.org", "/report.txt") == (200, "report\n")
            # www/files/index.html exists (ghexamples.prepare), but static_index off.
            assert os.path.exists(os.path.join(root, "www/files/index.html"))
            assert get("files.example.org", "/")[0] == 404
            print("ok   each site's own locations: static, proxy, files without index")

            # No crossing: www's tree has no /v1/items and no report.txt at its
            # root, and api's backend only ever saw its own request.
            assert get("www.example.org", "/v1/items")[0] == 404
            assert get("www.example.org", "/report.txt")[0] == 404
            assert get("api.example.org", "/report.txt") == (200, "from app")
            assert [h[0] for h in backend.heads] == ["GET /v1/items HTTP/1.1",
                                                     "GET /report.txt HTTP/1.1"], backend.heads
            print("ok   a site's paths are not reachable through another site's name")

            # Other Host names (the load balancer by address): the top level.
            assert get("www.example.org", "/healthz")[0] == 404  # no fallback
            for host, path, want, body in (("127.0.0.1", "/healthz", b"200", b"ok\n"),
                                           ("unknown.test", "/index.html", b"404",
                                            b"no such site here\n")):
                data = raw(port, ca, host, path)
                assert data.startswith(b"HTTP/1.1 " + want) and data.endswith(body), (host, data)
            print("ok   other Host names get the top-level locations (health check, 404)")
    finally:
        backend.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
