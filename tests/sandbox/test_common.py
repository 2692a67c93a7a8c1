"""The shared emulator base: auth, faults, call log, control API — over real HTTPS."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sandbox.common import Emulator, EmulatorServer, HttpError, SandboxCA, route
from sandbox.common.limits import InFlight, Latency


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


class SalesforceNamedEmulator(EchoEmulator):
    name = "salesforce"


def test_it_refuses_to_make_salesforce_answer_429_with_a_clear_error():
    """Real Salesforce never answers 429 (its refusal is 403 REQUEST_LIMIT_EXCEEDED), so a
    test that injects one would prove nothing."""
    app = SalesforceNamedEmulator()
    with pytest.raises(ValueError, match="REQUEST_LIMIT_EXCEEDED"):
        app.throttle_next(1)
    with pytest.raises(ValueError, match="never answers 429"):
        app.fail_next(1, status=429)
    app.fail_next(1, status=503)  # other faults stay available
    with EmulatorServer(app, SandboxCA()) as srv:
        r = requests.post(
            f"{srv.base_url}/_sandbox/faults",
            json={"throttle_next": 1},
            verify=srv.ca_bundle,
            timeout=5,
        )
        assert r.status_code == 400 and "REQUEST_LIMIT_EXCEEDED" in r.json()["error"]


class LimitedEmulator(EchoEmulator):
    name = "limited"
    max_in_flight = 2


def test_it_counts_in_flight_per_principal_and_refuses_over_the_limit():
    app = LimitedEmulator()
    app.tokens.issue_static("alice", "tok-a")
    app.tokens.issue_static("bob", "tok-b")
    app.set_latency(0.3)
    with EmulatorServer(app, SandboxCA()) as srv:

        def get(tok):
            return requests.get(
                f"{srv.base_url}/echo/x",
                headers={"Authorization": f"Bearer {tok}"},
                verify=srv.ca_bundle,
                timeout=10,
            ).status_code

        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(get, ["tok-a", "tok-a", "tok-a", "tok-b"]))
    assert sorted(statuses[:3]) == [200, 200, 429] and statuses[3] == 200
    assert (app.peak_in_flight("alice"), app.peak_in_flight("bob")) == (2, 1)
    assert [c.status for c in app.calls].count(429) == 1  # a refusal is a logged call


def test_the_in_flight_counter_can_cap_only_long_running_requests():
    """Salesforce caps concurrent requests of 20 s or more, not short ones: with
    `long_running_after`, only requests that have run that long count against the limit."""
    counter = InFlight()
    first = counter.enter("org", limit=1, long_running_after=0.05)
    second = counter.enter("org", limit=1, long_running_after=0.05)
    assert (first.granted, second.granted) == (1, 1)  # both still short
    time.sleep(0.06)
    assert counter.enter("org", limit=2, long_running_after=0.05).granted == 0
    counter.leave(first)
    assert counter.enter("org", limit=2, long_running_after=0.05).granted == 1
    assert counter.peak("org") == 2


def test_the_latency_model_is_off_by_default_and_refuses_negative_values():
    assert EchoEmulator().latency.off
    assert Latency(0.2, 0.05).seconds(20) == pytest.approx(1.2)
    with pytest.raises(ValueError):
        Latency(-1)


class SlowEmulator(EchoEmulator):
    """Its handler works `work` seconds (the emulator's own work, under its lock)."""

    name = "slow"
    work = 0.0

    @route("/work")
    def busy(self, request, principal):
        time.sleep(self.work)
        return {"ok": True}


def _timed_call(app, path="/work"):
    with EmulatorServer(app, SandboxCA()) as srv:
        session = requests.Session()
        session.trust_env = False
        get = lambda: session.get(  # noqa: E731
            f"{srv.base_url}{path}",
            headers={"Authorization": "Bearer tok-a"},
            verify=srv.ca_bundle,
            timeout=10,
        )
        get()  # the TLS handshake is not the call's time at the server
        started = time.monotonic()
        assert get().ok
        return time.monotonic() - started, app.calls[-1]


def test_the_modelled_latency_includes_the_emulators_own_work():
    """The latency model is a call's time at the server. The emulator's work runs in the
    client's process (tests, benchmarks): counted on top, a benchmark would bill the
    client for the emulator. The call log says how long the emulator itself worked."""
    app = SlowEmulator()
    app.tokens.issue_static("alice", "tok-a")
    app.work = 0.3
    app.set_latency(0.5)
    took, record = _timed_call(app)
    assert 0.5 <= took < 0.5 + 0.25  # not 0.8: the work is part of the 0.5 s
    assert 0.3 <= record.server_s < 0.45


def test_an_emulator_slower_than_its_model_takes_its_own_time_and_says_so():
    app = SlowEmulator()
    app.tokens.issue_static("alice", "tok-a")
    app.work = 0.4
    app.set_latency(0.1)
    took, record = _timed_call(app)
    assert took >= 0.4 and record.server_s >= 0.4  # the model is not held; the log shows it
