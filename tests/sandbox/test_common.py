"""The shared emulator base: auth, faults, call log, control API — over real HTTPS."""

import requests

from sandbox.common import Emulator, EmulatorServer, HttpError, SandboxCA, route


class EchoEmulator(Emulator):
    name = "echo"

    @route("/echo/<word>")
    def echo(self, request, principal, word):
        if word == "bad":
            raise HttpError(400, "BadWord", "no bad words")
        return {"word": word, "principal": principal}

    @route("/open", auth=False, counted=False)
    def open(self, request, principal):
        return {"open": True}


def _server():
    app = EchoEmulator()
    app.tokens.issue_static("alice", "tok-a", "ref-a")
    return EmulatorServer(app, SandboxCA())


def test_it_serves_tls_trusted_through_the_ca_bundle():
    with _server() as srv:
        r = requests.get(
            f"{srv.base_url}/echo/hi",
            headers={"Authorization": "Bearer tok-a"},
            verify=srv.ca_bundle,
            timeout=5,
        )
        assert r.json() == {"word": "hi", "principal": "alice"}
        assert srv.base_url.startswith("https://127.0.0.1:")


def test_it_refuses_unknown_and_expired_tokens_and_counts_calls():
    with _server() as srv:
        get = lambda tok: requests.get(  # noqa: E731
            f"{srv.base_url}/echo/x",
            headers={"Authorization": f"Bearer {tok}"},
            verify=srv.ca_bundle,
            timeout=5,
        )
        assert get("nope").status_code == 401
        assert get("tok-a").status_code == 200
        srv.app.expire_tokens("alice")
        assert get("tok-a").status_code == 401
        assert srv.app.call_count("alice") == 1
        assert srv.app.tokens.refresh("ref-a") is not None


def test_it_injects_errors_and_throttling_through_the_control_api():
    with _server() as srv:
        h = {"Authorization": "Bearer tok-a"}
        ctl = requests.post(
            f"{srv.base_url}/_sandbox/faults",
            json={"fail_next": 1, "status": 500},
            verify=srv.ca_bundle,
            timeout=5,
        )
        assert ctl.json()["ok"]
        assert (
            requests.get(f"{srv.base_url}/echo/x", headers=h, verify=srv.ca_bundle).status_code
            == 500
        )
        srv.app.throttle_next(1, retry_after=2)
        r = requests.get(f"{srv.base_url}/echo/x", headers=h, verify=srv.ca_bundle)
        assert (r.status_code, r.headers["Retry-After"]) == (429, "2")
        assert requests.get(f"{srv.base_url}/echo/x", headers=h, verify=srv.ca_bundle).ok
        assert requests.get(f"{srv.base_url}/echo/bad", headers=h, verify=srv.ca_bundle).json() == {
            "error": {"code": "BadWord", "message": "no bad words"}
        }
        calls = requests.get(f"{srv.base_url}/_sandbox/calls", verify=srv.ca_bundle).json()
        assert [c["status"] for c in calls["calls"]] == [500, 429, 200, 400]
        assert requests.get(f"{srv.base_url}/open", verify=srv.ca_bundle).json() == {"open": True}
        assert srv.app.call_count() == 4
