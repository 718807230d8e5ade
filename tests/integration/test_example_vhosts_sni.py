# SPDX-License-Identifier: MIT
"""examples/vhosts-sni.conf, run as written (ports and paths moved by
tests/harness/ghexamples.py):

  - curl to each of www, api and files.example.org verifies that site's own
    certificate (curl checks the name against the certificate it got);
  - Python's ssl module reads the certificate served for each SNI name, and
    for a client sending none (the first one, www.example.org);
  - the shared locations answer: static index, /api/ through the proxy,
    /files/ without index (404 for the directory, the file served), /healthz.
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
                rc, status, _, body = ghexamples.curl("https://%s:%d/healthz" % (host, port),
                                                      host, port, ca)
                assert rc == 0 and status == 200 and body == "ok\n", (host, rc, status, body)
            assert served_names(port, ca, None) == ["www.example.org"]
            print("ok   each host name gets its own certificate; no SNI: www.example.org")

            www = "https://www.example.org:%d" % port
            rc, status, _, body = ghexamples.curl(www + "/", "www.example.org", port, ca)
            assert status == 200 and body == "<p>www</p>\n", (status, body)
            api = "https://api.example.org:%d" % port
            rc, status, _, body = ghexamples.curl(api + "/api/v1/items", "api.example.org",
                                                  port, ca)
            assert status == 200 and body == "from app", (status, body)
            assert backend.heads[0][0] == "GET /api/v1/items HTTP/1.1", backend.heads
            assert backend.header(0, "x-forwarded-host") == ["api.example.org:%d" % port]
            files = "https://files.example.org:%d" % port
            rc, status, _, body = ghexamples.curl(files + "/files/report.txt",
                                                  "files.example.org", port, ca)
            assert status == 200 and body == "report\n", (status, body)
            # www/files/index.html exists (ghexamples.prepare), but static_index off.
            assert os.path.exists(os.path.join(root, "www/files/index.html"))
            rc, status, _, _ = ghexamples.curl(files + "/files/", "files.example.org", port, ca)
            assert status == 404, status
            print("ok   locations: static, proxy (/api/), files without index, health check")
    finally:
        backend.close()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
