"""The pytest plugin, used as a user would: test files run by an inner pytest."""

from __future__ import annotations

import pytest

from .conftest import EXAMPLES, RunUserTests


def test_fixtures_give_a_server_and_a_client_that_records_what_it_sends(
    pytester: pytest.Pytester, run_user_tests: RunUserTests
) -> None:
    pytester.makepyfile(
        """
        def test_send(hive_socket_server, hive_socket_client):
            receipt = hive_socket_client.notify.user(
                "user-1", title="Hi", body="Welcome", type="info", metadata={"n": 1}
            )

            [request] = hive_socket_server.sent
            assert (request.method, request.path, request.status) == ("POST", "/notify/user", 201)
            assert request.headers["X-Internal-Api-Key"] == hive_socket_server.api_key
            assert request.idempotency_key
            assert request.json == {
                "userId": "user-1", "title": "Hi", "body": "Welcome", "type": "info",
                "metadata": {"n": 1}, "projectId": hive_socket_server.project_id,
            }
            assert hive_socket_server.notifications_to("user-1") == [request.json]
            assert receipt.persisted is True
            assert hive_socket_client.base_url == hive_socket_server.url
        """
    )

    run_user_tests().assert_outcomes(passed=1)


def test_each_test_gets_its_own_server_stopped_and_client_closed_after_it(
    pytester: pytest.Pytester, run_user_tests: RunUserTests
) -> None:
    pytester.makepyfile(
        """
        import pytest
        from hive_socket import HiveSocketNetworkError, HiveSocketClient

        earlier = {}

        def test_first(hive_socket_server, hive_socket_client):
            hive_socket_client.notify.room("room-1", title="Hi", body="", type="info")
            earlier.update(url=hive_socket_server.url, client=hive_socket_client)

        def test_second(hive_socket_server):
            assert hive_socket_server.sent == []
            assert hive_socket_server.url != earlier["url"]
            assert earlier["client"].closed
            with HiveSocketClient(earlier["url"], "key", max_retries=0) as stale:
                with pytest.raises(HiveSocketNetworkError):
                    stale.health()
        """
    )

    run_user_tests().assert_outcomes(passed=2)


def test_hive_socket_env_points_from_env_at_the_server_for_one_test(
    pytester: pytest.Pytester, run_user_tests: RunUserTests, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("HIVE_SOCKET_URL", "HIVE_SOCKET_API_KEY", "SMARTHIVE_PROJECT_ID"):
        monkeypatch.delenv(variable, raising=False)
    pytester.makepyfile(
        """
        import os
        from hive_socket import HiveSocketClient

        def test_with_env(hive_socket_env):
            with HiveSocketClient.from_env() as hive:
                hive.broadcast.to_room("room-1", type="quiz.start", payload={})
            [message] = hive_socket_env.broadcasts_to("room-1")
            assert message["projectId"] == hive_socket_env.project_id

        def test_after():
            assert "HIVE_SOCKET_URL" not in os.environ
        """
    )

    run_user_tests().assert_outcomes(passed=2)


def test_invalid_request_from_user_code_fails_the_test_even_when_swallowed(
    pytester: pytest.Pytester, run_user_tests: RunUserTests
) -> None:
    pytester.makepyfile(
        """
        import json
        import urllib.error
        import urllib.request

        def notify_by_hand(url, key):
            # Snake-case fields: the real server wants userId and projectId.
            request = urllib.request.Request(
                url + "/notify/user",
                data=json.dumps(
                    {"user_id": "u1", "title": "Hi", "body": "", "type": "info"}
                ).encode(),
                headers={
                    "x-internal-api-key": key,
                    "content-type": "application/json",
                    "idempotency-key": "key-1",
                },
            )
            try:
                with urllib.request.urlopen(request):
                    pass
            except urllib.error.HTTPError as error:
                error.close()  # best effort: a failed notification is ignored

        def test_notify(hive_socket_server):
            notify_by_hand(hive_socket_server.url, hive_socket_server.api_key)
        """
    )

    result = run_user_tests()

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*refused 1 request(s) that the real server would refuse too:",
            "*POST /notify/user -> 400",
            "*userId is required",
            "*projectId is required",
            "*expect_rejections()*",
        ]
    )


def test_rejected_call_through_the_client_fails_the_test_once(
    pytester: pytest.Pytester, run_user_tests: RunUserTests
) -> None:
    pytester.makepyfile(
        """
        from hive_socket import HiveSocketClient

        def test_wrong_key(hive_socket_server):
            with HiveSocketClient(hive_socket_server.url, "wrong-key", project_id="p") as hive:
                hive.notify.user("u1", title="Hi", body="", type="info")
        """
    )

    result = run_user_tests()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*HiveSocketAuthError*401 Unauthorized*x-internal-api-key*"])


def test_expect_rejections_allows_refused_requests_on_purpose(
    pytester: pytest.Pytester, run_user_tests: RunUserTests
) -> None:
    pytester.makepyfile(
        """
        import pytest
        from hive_socket import HiveSocketAuthError, HiveSocketClient

        def test_wrong_key_is_reported(hive_socket_server):
            hive_socket_server.expect_rejections()
            with HiveSocketClient(hive_socket_server.url, "wrong-key", project_id="p") as hive:
                with pytest.raises(HiveSocketAuthError):
                    hive.notify.user("u1", title="Hi", body="", type="info")
            [refused] = hive_socket_server.rejected
            assert refused.status == 401
        """
    )

    run_user_tests().assert_outcomes(passed=1)


def test_failure_injection_from_a_user_test(
    pytester: pytest.Pytester, run_user_tests: RunUserTests
) -> None:
    pytester.makepyfile(
        """
        import pytest
        from hive_socket import (
            HiveSocketError, HiveSocketNetworkError, HiveSocketRateLimitError,
            HiveSocketServerError, HiveSocketTimeoutError,
        )

        def send(hive):
            return hive.notify.user("u1", title="Hi", body="", type="info")

        def test_status_then_success(hive_socket_server, hive_socket_client):
            hive_socket_server.fail_next(502, times=2, retry_after=0)
            send(hive_socket_client)
            assert [r.status for r in hive_socket_server.sent] == [502, 502, 201]
            assert [r.injected for r in hive_socket_server.sent] == [True, True, False]

        def test_status_with_a_body(hive_socket_server, hive_socket_client):
            hive_socket_server.fail_next(500, body={"error": "database down"}, retry_after=0, times=3)
            with pytest.raises(HiveSocketServerError, match="database down") as caught:
                send(hive_socket_client)
            assert caught.value.request_id

        def test_long_retry_after_is_not_waited_for(hive_socket_server, hive_socket_client):
            hive_socket_server.fail_next(429, retry_after=120)
            with pytest.raises(HiveSocketRateLimitError) as caught:
                send(hive_socket_client)
            assert caught.value.retry_after == 120
            assert len(hive_socket_server.sent) == 1

        def test_redirect(hive_socket_server, hive_socket_client):
            hive_socket_server.fail_next(307, headers={"location": "http://elsewhere.test/"})
            with pytest.raises(HiveSocketError, match="elsewhere.test") as caught:
                send(hive_socket_client)
            assert caught.value.status_code == 307

        def test_timeout(hive_socket_server, hive_socket_client):
            hive_socket_server.delay_next(30)
            with pytest.raises(HiveSocketTimeoutError):
                send(hive_socket_client.with_options(timeout=0.1, max_retries=0))
            assert hive_socket_server.notifications_to("u1") == []

        def test_dropped_connection(hive_socket_server, hive_socket_client):
            hive_socket_server.drop_next(times=3)
            with pytest.raises(HiveSocketNetworkError) as caught:
                send(hive_socket_client.with_options(max_retries=0))
            assert caught.value.status_code is None
        """
    )

    run_user_tests("--durations=0").assert_outcomes(passed=6)


@pytest.mark.parametrize(
    ("test_file", "framework", "passed"),
    [
        ("test_payments.py", None, 6),
        ("test_fastapi_app.py", "fastapi", 2),
        ("test_flask_app.py", "flask", 2),
    ],
)
def test_documented_examples_pass(
    pytester: pytest.Pytester,
    run_user_tests: RunUserTests,
    test_file: str,
    framework: str | None,
    passed: int,
) -> None:
    if framework is not None:
        pytest.importorskip(framework)
    for path in [*EXAMPLES.glob("*_app.py"), *EXAMPLES.joinpath("testing").glob("*.py")]:
        pytester.path.joinpath(path.name).write_text(path.read_text(encoding="utf-8"))

    run_user_tests(test_file).assert_outcomes(passed=passed)
