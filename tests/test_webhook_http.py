"""How an endpoint POST travels (notifications/channels/http.py), against real local servers: over TLS the URL's
name is the one checked in the certificate and sent as SNI and Host while the connection goes to the checked
address; a kept-alive connection the server closed is not reused; a long answer is not read to its end."""

import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notifications.channels import EndpointError, EndpointMessage
from notifications.channels import http as endpoint_http
from notifications.channels.webhook import WebhookChannel

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8", "::1/128"]
    settings.WEBHOOK_TIMEOUT = 5


def serve(handler, context=None):
    """A threading HTTP/1.1 server on a free port (TLS when given a context); seen: what each request showed."""
    seen = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            server_name = getattr(self.connection, "server_hostname", None)
            seen.append({"host": self.headers["Host"], "body": body, "peer": self.client_address, "sni": server_name})
            handler(self)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if context is not None:
        names = {}

        def remember_sni(sock, name, _context):
            names[id(sock)] = name

        context.sni_callback = remember_sni
        server.socket = context.wrap_socket(server.socket, server_side=True)
        original = Handler.setup

        def setup(self):
            original(self)
            self.connection.server_hostname = names.get(id(self.connection))

        Handler.setup = setup
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


def ok(request, body=b"", close=False):
    request.send_response(200)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)
    if close:
        request.close_connection = True  # closed after the answer, though the answer did not say so


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for "localhost" (openssl, from Debian's base system)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


def post(url: str, body: bytes = b"{}") -> None:
    channel = WebhookChannel()
    try:
        channel.send(EndpointMessage(url, body))
    finally:
        channel.close()


def test_over_tls_the_urls_name_is_checked_and_sent_while_the_checked_address_is_connected(certificate, monkeypatch):
    context, cert = certificate
    trusting = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(endpoint_http, "TLS", trusting)
    server, seen = serve(ok, context)
    port = server.server_address[1]
    post(f"https://localhost:{port}/hook", b'{"a": 1}')
    assert seen[0]["body"] == b'{"a": 1}'
    assert seen[0]["host"] == f"localhost:{port}"
    assert seen[0]["sni"] == "localhost"
    assert seen[0]["peer"][0] == "127.0.0.1"  # the checked address, not a second resolution
    server.shutdown()


def test_a_certificate_nobody_vouches_for_or_for_another_name_is_a_failure(certificate, monkeypatch):
    context, cert = certificate
    server, seen = serve(ok, context)
    port = server.server_address[1]
    with pytest.raises(EndpointError, match="CERTIFICATE_VERIFY_FAILED"):
        post(f"https://localhost:{port}/hook")  # the system's CAs do not know it
    monkeypatch.setattr(endpoint_http, "TLS", ssl.create_default_context(cafile=str(cert)))
    with pytest.raises(EndpointError, match="CERTIFICATE_VERIFY_FAILED|match"):
        post(f"https://127.0.0.1:{port}/hook")  # the certificate names localhost, not 127.0.0.1
    assert seen == []
    server.shutdown()


def test_a_kept_alive_connection_is_reused_and_one_the_server_closed_is_not():
    closing = []

    def answer(request):
        ok(request, close=bool(closing))

    server, seen = serve(answer)
    port = server.server_address[1]
    target = endpoint_http.Target("http", "127.0.0.1", "127.0.0.1", port, "/hook")
    connections = endpoint_http.Connections(target, size=1, timeout=5)
    for _ in range(3):
        assert connections.post("/hook", b"{}", {}).status == 200
    assert len({request["peer"] for request in seen}) == 1  # one connection for all three

    closing.append(True)  # from now on the server closes each connection after answering
    for _ in range(3):
        assert connections.post("/hook", b"{}", {}).status == 200
        time.sleep(0.1)  # the connection idles (and the server's close arrives) before the next request
    assert len({request["peer"] for request in seen[3:]}) == 3  # never a closed one again
    connections.close()
    server.shutdown()


def test_a_long_answer_is_not_read_to_its_end_and_its_connection_is_dropped():
    big = b"x" * (endpoint_http.MAX_ANSWER * 4)
    server, seen = serve(lambda request: ok(request, big))
    port = server.server_address[1]
    target = endpoint_http.Target("http", "127.0.0.1", "127.0.0.1", port, "/hook")
    connections = endpoint_http.Connections(target, size=2, timeout=5)
    assert connections.post("/hook", b"{}", {}).status == 200
    assert not connections.idle  # not kept: the rest of the answer is still on it
    assert connections.post("/hook", b"{}", {}).status == 200
    assert len({request["peer"] for request in seen}) == 2
    connections.close()
    server.shutdown()


def test_nothing_listening_is_a_connection_failure():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(EndpointError, match="connection"):
        post(f"http://127.0.0.1:{port}/hook")


def test_an_endpoint_answering_a_byte_at_a_time_is_cut_at_the_timeout_for_the_whole_exchange(settings):
    """Each read comes well within WEBHOOK_TIMEOUT, yet the POST as a whole may not take longer."""
    settings.WEBHOOK_TIMEOUT = 1
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def drip():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for n in range(20):  # a header every 0.25 s: 5 s in all
                time.sleep(0.25)
                with contextlib.suppress(OSError):
                    conn.sendall(f"X-Slow-{n}: yes\r\n".encode())

    threading.Thread(target=drip, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(EndpointError, match="timed out: no complete answer within 1 s"):
        post(f"http://127.0.0.1:{port}/hook")
    assert time.monotonic() - started < 2.5
    listener.close()
