# SPDX-License-Identifier: GPL-3.0-or-later
"""arizu.ops.status_pages against a real local http.server (no HTTP mocking, only 127.0.0.1)."""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.arizu.ops.plugins.modules import status_pages


def statuspage(indicator, description="Described"):
    return 200, "application/json", json.dumps({
        "page": {"id": "x", "name": "Dep"},
        "status": {"indicator": indicator, "description": description},
    }).encode()


#: path -> (delay seconds, HTTP status, content type, body); "/redirect" redirects to "/none".
ROUTES = {
    "/none": (0,) + statuspage("none", "All Systems Operational"),
    "/minor": (0,) + statuspage("minor", "Partially Degraded Service"),
    "/maintenance": (0,) + statuspage("maintenance", "Service Under Maintenance"),
    "/major": (0,) + statuspage("major", "Partial System Outage"),
    "/critical": (0,) + statuspage("critical", "Major System Outage"),
    "/weird": (0,) + statuspage("purple"),
    "/api/v2/status.json": (0,) + statuspage("minor", "From the default path"),
    "/private": (0,) + statuspage("none", "Behind basic auth"),
    "/html": (0, 200, "text/html", b"<html><body>All good</body></html>"),
    "/json-other": (0, 200, "application/json", b'{"status": "ok"}'),
    "/json-list": (0, 200, "application/json", b'[1, 2]'),
    "/json-503": (0, 503, "application/json", json.dumps({"status": {"indicator": "none"}}).encode()),
    "/503": (0, 503, "text/html", b"<h1>Service Unavailable</h1>"),
    "/500": (0, 500, "text/plain", b"oops"),
    "/404": (0, 404, "text/html", b"<h1>Not Found</h1>"),
    "/401": (0, 401, "text/plain", b"auth"),
    "/304": (0, 304, "text/plain", b""),
    "/slow": (2.0, 200, "text/plain", b"late"),
    "/big": (0, 200, "application/json", b'{"status": {"indicator": "none", "description": "' + b"x" * (300 * 1024) + b'"}}'),
}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *_args):
        pass

    def do_GET(self):  # noqa: N802
        self.server.seen.append((self.path, self.headers.get("Authorization")))
        if self.path == "/private" and not self.headers.get("Authorization"):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="status"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/none")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        delay, status, ctype, body = ROUTES.get(self.path, (0, 404, "text/plain", b"no route"))
        time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass


@pytest.fixture(scope="module")
def _httpd():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.seen = []
    httpd.handle_error = lambda *_args: None
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server(_httpd):
    _httpd.seen = []
    return _httpd


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            status_pages.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def url(httpd, path):
    return "http://127.0.0.1:%d%s" % (httpd.server_address[1], path)


def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


CASES = [
    # (id, path, kind, status, http_status, detail)
    ("statuspage none", "/none", "statuspage", "up", 200, "All Systems Operational"),
    ("statuspage minor", "/minor", "statuspage", "degraded", 200, "Partially Degraded Service"),
    ("statuspage maintenance", "/maintenance", "statuspage", "degraded", 200, "Service Under Maintenance"),
    ("statuspage major", "/major", "statuspage", "down", 200, "Partial System Outage"),
    ("statuspage critical", "/critical", "statuspage", "down", 200, "Major System Outage"),
    ("statuspage unknown indicator", "/weird", "statuspage", "unknown", 200, "unknown Statuspage indicator 'purple'"),
    ("statuspage HTML", "/html", "statuspage", "unknown", 200, "HTTP 200 without a Statuspage status indicator"),
    ("statuspage other JSON", "/json-other", "statuspage", "unknown", 200, "without a Statuspage status indicator"),
    ("statuspage 503", "/503", "statuspage", "unknown", 503, "HTTP 503 from the status page"),
    ("statuspage 404", "/404", "statuspage", "unknown", 404, "HTTP 404 from the status page"),
    ("statuspage body over 256 KiB", "/big", "statuspage", "unknown", 200, "without a Statuspage status indicator"),
    ("auto statuspage none", "/none", "auto", "up", 200, "All Systems Operational"),
    ("auto statuspage minor", "/minor", "auto", "degraded", 200, "Partially Degraded Service"),
    ("auto statuspage maintenance", "/maintenance", "auto", "degraded", 200, "Service Under Maintenance"),
    ("auto statuspage major", "/major", "auto", "down", 200, "Partial System Outage"),
    ("auto statuspage critical", "/critical", "auto", "down", 200, "Major System Outage"),
    ("auto plain 200 HTML", "/html", "auto", "up", 200, "HTTP 200"),
    ("auto other JSON", "/json-other", "auto", "up", 200, "HTTP 200"),
    ("auto JSON list", "/json-list", "auto", "up", 200, "HTTP 200"),
    ("auto 503", "/503", "auto", "down", 503, "HTTP 503"),
    ("auto 503 with indicator JSON", "/json-503", "auto", "down", 503, "HTTP 503"),
    ("auto 500", "/500", "auto", "down", 500, "HTTP 500"),
    ("auto 404", "/404", "auto", "unknown", 404, "HTTP 404"),
    ("auto 401", "/401", "auto", "unknown", 401, "HTTP 401"),
    ("auto 304 (3xx not followed)", "/304", "auto", "unknown", 304, "HTTP 304"),
    ("auto redirect followed", "/redirect", "auto", "up", 200, "All Systems Operational"),
    ("auto body over 256 KiB", "/big", "auto", "up", 200, "HTTP 200"),
    ("http ignores the indicator", "/major", "http", "up", 200, "HTTP 200"),
    ("http 503", "/503", "http", "down", 503, "HTTP 503"),
    ("http 404", "/404", "http", "unknown", 404, "HTTP 404"),
]


@pytest.mark.parametrize("path, kind, status, http_status, detail", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_page(server, capsys, path, kind, status, http_status, detail):
    code, res = run(capsys, pages=[{"name": "dep", "url": url(server, path), "kind": kind}])
    assert code == 0 and res["changed"] is False and "failed" not in res
    page = res["pages"][0]
    assert set(page) == {"name", "url", "status", "http_status", "latency_ms", "detail"}
    assert page["name"] == "dep" and page["url"] == url(server, path)
    assert page["status"] == status, page
    assert page["http_status"] == http_status
    assert detail in page["detail"]
    assert isinstance(page["latency_ms"], float) and page["latency_ms"] >= 0
    assert res["summary"] == {"dep": status}


def test_kind_defaults_to_auto(server, capsys):
    code, res = run(capsys, pages=[{"name": "dep", "url": url(server, "/critical")}])
    assert res["pages"][0]["status"] == "down" and res["pages"][0]["detail"] == "Major System Outage"


def test_statuspage_kind_completes_a_bare_url(server, capsys):
    base = "http://127.0.0.1:%d" % server.server_address[1]
    code, res = run(capsys, pages=[{"name": "a", "url": base, "kind": "statuspage"},
                                   {"name": "b", "url": base + "/", "kind": "statuspage"}])
    assert [p["url"] for p in res["pages"]] == [base + "/api/v2/status.json"] * 2
    assert [p["status"] for p in res["pages"]] == ["degraded", "degraded"]
    assert res["pages"][0]["detail"] == "From the default path"


def test_many_pages_in_input_order_with_summary_and_msg(server, capsys):
    pages = [
        {"name": "clerk", "url": url(server, "/none")},
        {"name": "stripe", "url": url(server, "/html"), "kind": "http"},
        {"name": "vercel", "url": url(server, "/minor"), "kind": "statuspage"},
        {"name": "anthropic", "url": url(server, "/critical")},
        {"name": "openai", "url": "http://127.0.0.1:%d/api/v2/status.json" % closed_port()},
    ]
    code, res = run(capsys, pages=pages, timeout=2)
    assert code == 0 and res["changed"] is False
    assert [p["name"] for p in res["pages"]] == ["clerk", "stripe", "vercel", "anthropic", "openai"]
    assert res["summary"] == {"clerk": "up", "stripe": "up", "vercel": "degraded", "anthropic": "down",
                              "openai": "unknown"}
    assert res["msg"] == ("5 status pages: 2 up, 1 degraded, 1 down, 1 unknown "
                          "(down: anthropic; degraded: vercel; unknown: openai)")


def test_closed_port_is_unknown_not_down_and_not_a_failure(capsys):
    code, res = run(capsys, pages=[{"name": "dep", "url": "http://127.0.0.1:%d/x" % closed_port()}])
    assert code == 0 and "failed" not in res
    page = res["pages"][0]
    assert page["status"] == "unknown" and page["http_status"] is None and page["latency_ms"] is None
    assert page["detail"] == "connection refused"


def test_slow_page_is_unknown_after_the_timeout(server, capsys):
    started = time.monotonic()
    code, res = run(capsys, pages=[{"name": "slow", "url": url(server, "/slow")},
                                   {"name": "fast", "url": url(server, "/none")}], timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert code == 0 and "failed" not in res
    assert res["summary"] == {"slow": "unknown", "fast": "up"}
    assert res["pages"][0]["detail"] == "timed out after 0.5 s"
    assert res["pages"][0]["http_status"] is None


def test_slow_pages_are_probed_concurrently(server, capsys):
    pages = [{"name": "slow%d" % i, "url": url(server, "/slow")} for i in range(3)]
    started = time.monotonic()
    code, res = run(capsys, pages=pages, timeout=0.5)
    elapsed = time.monotonic() - started
    assert elapsed < 1.5, elapsed   # one after another would take 3 x 0.5 s at least
    assert code == 0 and list(res["summary"].values()) == ["unknown"] * 3


def test_max_workers_one_probes_one_after_another(server, capsys):
    pages = [{"name": "slow%d" % i, "url": url(server, "/slow")} for i in range(2)]
    started = time.monotonic()
    code, res = run(capsys, pages=pages, timeout=0.3, max_workers=1)
    elapsed = time.monotonic() - started
    assert 0.6 <= elapsed < 2.0, elapsed
    assert list(res["summary"].values()) == ["unknown", "unknown"]


def test_deadline_abandons_a_stuck_probe(capsys, monkeypatch):
    release = threading.Event()
    real_probe = status_pages.probe

    def stuck_probe(page, timeout, validate_certs):
        if page["name"] == "stuck":   # like a DNS lookup that no socket timeout bounds
            release.wait(5)
        return real_probe(page, timeout, validate_certs)

    monkeypatch.setattr(status_pages, "probe", stuck_probe)
    port = closed_port()
    started = time.monotonic()
    try:
        code, res = run(capsys, pages=[{"name": "stuck", "url": "http://127.0.0.1:%d/" % port},
                                       {"name": "other", "url": "http://127.0.0.1:%d/" % port}], timeout=0.4)
    finally:
        release.set()
    assert time.monotonic() - started < 1.5
    assert code == 0
    assert res["pages"][0]["status"] == "unknown" and res["pages"][0]["detail"].startswith("no answer within")
    assert res["pages"][1]["detail"] == "connection refused"


def test_credentials_are_sent_but_never_returned(server, capsys):
    code, res = run(capsys, pages=[{"name": "dep", "url": "http://ops:pa55-secret@127.0.0.1:%d/private"
                                    % server.server_address[1]}])
    assert res["pages"][0]["status"] == "up" and res["pages"][0]["detail"] == "Behind basic auth"
    assert res["pages"][0]["url"] == url(server, "/private")
    assert "pa55-secret" not in json.dumps(res)
    assert [auth for _path, auth in server.seen][-1].startswith("Basic ")


def test_check_mode_probes_too(server, capsys):
    code, res = run(capsys, pages=[{"name": "dep", "url": url(server, "/none")}], _ansible_check_mode=True)
    assert code == 0 and res["changed"] is False and res["summary"] == {"dep": "up"}
    assert server.seen


def test_empty_list(capsys):
    code, res = run(capsys, pages=[])
    assert code == 0 and res["pages"] == [] and res["summary"] == {} and res["msg"] == "no status pages to probe"


@pytest.mark.parametrize("indicator, expected", [
    ("none", "up"), ("minor", "degraded"), ("maintenance", "degraded"), ("major", "down"), ("critical", "down"),
    ("MAJOR", "down"), (" none ", "up"), ("", "unknown"), ("red", "unknown"),
])
def test_classify_indicators(indicator, expected):
    body = json.dumps({"status": {"indicator": indicator}}).encode()
    for kind in ("auto", "statuspage"):
        status, detail = status_pages.classify(kind, 200, body)
        assert status == expected
        if expected != "unknown":
            assert detail == "indicator %s" % indicator.strip().lower()   # no description: the indicator


def test_classify_long_description_is_cut():
    body = json.dumps({"status": {"indicator": "minor", "description": "word " * 100}}).encode()
    status, detail = status_pages.classify("statuspage", 200, body)
    assert status == "degraded" and len(detail) == 120 and detail.endswith("...")


BAD = [
    # Ansible's own conversion of the elements answers first (a "k=v k=v" string would become a mapping)
    ("entry not a mapping", {"pages": ["https://status.example"]}, "Elements value for option 'pages'"),
    ("missing name", {"pages": [{"name": "a", "url": "http://127.0.0.1/"}, {"url": "http://127.0.0.1/"}]},
     "pages[1].name: required"),
    ("empty name", {"pages": [{"name": "", "url": "http://127.0.0.1/"}]}, "pages[0].name: required"),
    ("name not a string", {"pages": [{"name": ["a"], "url": "http://127.0.0.1/"}]},
     "pages[0].name: expected a non-empty string, got list"),
    ("missing url", {"pages": [{"name": "a"}]}, "pages[0].url: required"),
    ("url not a string", {"pages": [{"name": "a", "url": 5}]}, "pages[0].url: expected a string, got int"),
    ("bad scheme", {"pages": [{"name": "a", "url": "http://127.0.0.1/"},
                              {"name": "b", "url": "ftp://127.0.0.1/status"}]},
     "pages[1].url: must start with http:// or https://, got ftp://127.0.0.1/status"),
    ("no scheme", {"pages": [{"name": "a", "url": "status.example.com"}]}, "pages[0].url: must start with http://"),
    ("no host", {"pages": [{"name": "a", "url": "http:///status"}]}, "pages[0].url: has no host"),
    ("bad scheme hides the password", {"pages": [{"name": "a", "url": "ftp://u:pw-s3cret@127.0.0.1/"}]},
     "pages[0].url: must start with http:// or https://, got ftp://127.0.0.1/"),
    ("bad port", {"pages": [{"name": "a", "url": "http://127.0.0.1:99999/"}]}, "pages[0].url: not a valid URL"),
    ("unknown kind", {"pages": [{"name": "a", "url": "http://127.0.0.1/", "kind": "atlassian"}]},
     "pages[0].kind: expected one of auto, statuspage, http, got 'atlassian'"),
    ("unknown key", {"pages": [{"name": "a", "url": "http://127.0.0.1/", "timeout": 1}]},
     "pages[0]: unknown key timeout (expected name, url, kind)"),
    ("duplicate names", {"pages": [{"name": "stripe", "url": "http://127.0.0.1/a"},
                                   {"name": "clerk", "url": "http://127.0.0.1/b"},
                                   {"name": " stripe", "url": "http://127.0.0.1/c"}]},
     "pages[2].name: 'stripe' is already the name of pages[0]; names must be unique"),
    ("too many pages", {"pages": [{"name": "p%d" % i, "url": "http://127.0.0.1/"} for i in range(101)]},
     "pages: at most 100 pages, got 101"),
    ("timeout 0", {"pages": [], "timeout": 0}, "timeout must be above 0 and at most 60 seconds, got 0"),
    ("timeout too long", {"pages": [], "timeout": 61}, "timeout must be above 0"),
    ("max_workers 0", {"pages": [], "max_workers": 0}, "max_workers must be between 1 and 32, got 0"),
    ("max_workers 33", {"pages": [], "max_workers": 33}, "max_workers must be between 1 and 32, got 33"),
    ("pages missing", {}, "missing required arguments: pages"),
]


@pytest.mark.parametrize("args, message", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_is_named(capsys, args, message):
    code, res = run(capsys, **args)
    assert code == 1 and res["failed"]
    assert message in res["msg"], res["msg"]
    assert "pw-s3cret" not in json.dumps(res)
    assert "Traceback" not in json.dumps(res)


@pytest.fixture
def tls_server(tmp_path):
    """A local HTTPS server with a self-signed certificate for 127.0.0.1."""
    import datetime
    import ssl

    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "arizu-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_file), str(key_file))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.seen = []
    httpd.handle_error = lambda *_args: None
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield "https://127.0.0.1:%d" % httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_untrusted_certificate_is_unknown_with_the_reason(tls_server, capsys):
    code, res = run(capsys, pages=[{"name": "tls", "url": tls_server + "/none"}], timeout=2)
    assert code == 0 and "failed" not in res
    page = res["pages"][0]
    assert page["status"] == "unknown" and page["http_status"] is None
    assert page["detail"].startswith("TLS: certificate verify failed ("), page["detail"]


def test_validate_certs_false_accepts_the_certificate(tls_server, capsys):
    code, res = run(capsys, pages=[{"name": "tls", "url": tls_server + "/none"}], validate_certs=False, timeout=2)
    assert res["pages"][0]["status"] == "up" and res["pages"][0]["http_status"] == 200
