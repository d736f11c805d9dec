"""The console over HTTP: sessions, roles, CSRF, safe rendering and the publish flow."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from bot.console.app import PAGES
from bot.console.auth import SESSION_COOKIE
from bot.services import Services
from tests.conftest import parsed_answer
from tests.console.conftest import CSRF, PASSWORD

PUBLIC = {("GET", "/login"), ("POST", "/login")}
# A value for each path parameter, so every route can be called.
SAMPLE = {"key": "card_arrival", "draft_id": "1", "message_id": "1", "reference": "BW-AAAAAA",
          "user_id": "1", "fmt": "csv"}


def console_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Return (method, path) of every console route, path parameters filled in."""
    mount = next(r for r in app.routes if isinstance(r, Mount) and r.path == "/staff")
    routes = []
    for route in [*mount.app.routes, *(r for page in PAGES for r in page.router.routes)]:
        if not isinstance(route, APIRoute):
            continue
        path = re.sub(r"{(\w+)}", lambda m: SAMPLE[m.group(1)], route.path)
        for method in route.methods:
            if (method, route.path) not in PUBLIC:
                routes.append((method, "/staff" + path))
    return routes


def test_every_console_route_refuses_without_a_session(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    routes = console_routes(app)
    assert len(routes) > 20
    for method, path in routes:
        response = client.request(method, path, follow_redirects=False)
        if method == "GET":
            assert response.status_code == 303, path
            assert response.headers["location"] == "/staff/login"
        else:
            assert response.status_code == 401, (method, path)


def test_a_forged_or_stale_session_cookie_is_refused(app, staff) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    client.cookies.set(SESSION_COOKIE, "not-signed", path="/staff")
    assert client.get("/staff/", follow_redirects=False).status_code == 303
    erin = staff("erin")
    erin.post("/staff/logout")
    assert erin.get("/staff/", follow_redirects=False).status_code == 303


def test_every_post_refuses_a_missing_or_wrong_csrf_token(app, staff) -> None:  # type: ignore[no-untyped-def]
    ada = staff("ada")  # admin: every role check passes, so only CSRF can refuse
    for method, path in console_routes(app):
        if method != "POST":
            continue
        for data in ({}, {"csrf_token": "wrong"}):
            response = ada.client.post(path, data=data, follow_redirects=False)
            assert response.status_code == 403, (path, data)
    assert ada.get("/staff/").status_code == 200  # still signed in


def test_login_refuses_a_post_without_the_login_csrf_cookie(app) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    response = client.post("/staff/login", data={"username": "erin", "password": PASSWORD,
                                                 "csrf_token": "x"})
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_admin_pages_refuse_editors_and_reviewers(staff) -> None:  # type: ignore[no-untyped-def]
    for username in ("erin", "rita"):
        user = staff(username)
        assert user.get("/staff/users").status_code == 403
        response = user.post("/staff/users", {"username": "mallory", "password": "x" * 20,
                                              "role": "admin"})
        assert response.status_code == 403
        assert user.post("/staff/users/1", {"action": "disable"}).status_code == 403
    assert "mallory" not in staff("ada").get("/staff/users").text


def test_editors_cannot_publish_and_authors_cannot_publish_their_own(staff) -> None:  # type: ignore[no-untyped-def]
    erin, rita = staff("erin"), staff("rita")
    response = erin.post("/staff/faqs/age_limit/edit", {
        "category": "account", "question": "How old do I need to be?",
        "answer": "You need to be 18.", "alternates": "", "comment": "test"})
    assert response.status_code == 303
    draft_path = response.headers["location"]
    assert erin.post(draft_path + "/publish").status_code == 403
    rita_draft = rita.post("/staff/faqs/age_limit/edit", {
        "category": "account", "question": "How old do I need to be?",
        "answer": "Eighteen.", "alternates": "", "comment": "test"}).headers["location"]
    assert rita.post(rita_draft + "/publish").status_code == 409
    assert 'id="publish"' not in rita.get(rita_draft).text
    assert 'id="publish"' in rita.get(draft_path).text
    erin.post(draft_path + "/discard")
    rita.post(rita_draft + "/discard")


def test_markdown_with_script_tags_renders_inert(staff) -> None:  # type: ignore[no-untyped-def]
    erin = staff("erin")
    answer = ("**Bold** <script>alert('x')</script> <img src=x onerror=alert(1)> "
              "[click](javascript:alert(1))")
    response = erin.post("/staff/faqs/new", {
        "key": "xss_probe", "category": "test", "question": "Is <b>this</b> safe?",
        "answer": answer, "alternates": "<script>bad()</script>", "comment": "probe"})
    assert response.status_code == 303
    page = erin.get(response.headers["location"])
    html = page.text
    assert "<strong>Bold</strong>" in html
    assert "<script>" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;alert" in html
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none'
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_lockout_after_repeated_failed_logins(app, console_services: Services) -> None:  # type: ignore[no-untyped-def]
    client = TestClient(app)
    limit = console_services.settings.staff_max_failed_logins

    def attempt(password: str) -> int:
        token = CSRF.search(client.get("/staff/login").text).group(1)
        return client.post("/staff/login", data={"username": "ed", "password": password,
                                                 "csrf_token": token},
                           follow_redirects=False).status_code

    for _ in range(limit):
        assert attempt("wrong password!") == 401
    assert attempt(PASSWORD) == 401  # locked: even the right password is refused


def test_edit_then_another_user_publishes_and_the_parse_answer_changes(
    staff, app, console_services: Services  # type: ignore[no-untyped-def]
) -> None:
    erin, rita = staff("erin"), staff("rita")
    new_answer = "Cards arrive within 3 working days. **Console test.**"
    response = erin.post("/staff/faqs/card_arrival/edit", {
        "category": "cards", "question": "How long does a new card take to arrive?",
        "answer": new_answer,
        "alternates": "\n".join(console_services.faqs.get_faq(key="card_arrival").alternates),
        "comment": "shorter delivery"})
    assert response.status_code == 303
    draft = response.headers["location"]
    review = rita.get(draft)
    assert 'class="add"' in review.text and "Console test." in review.text
    assert rita.post(draft + "/publish").status_code == 303
    parse = TestClient(app).post("/model/parse",
                                 json={"text": "my new card still hasn't arrived"})
    assert parsed_answer(parse.json()) == new_answer
    history = erin.get("/staff/faqs/card_arrival").text
    assert "shorter delivery" in history and "published by rita" in history


def test_try_it_shows_live_and_draft_decisions(staff) -> None:  # type: ignore[no-untyped-def]
    erin = staff("erin")
    draft = erin.post("/staff/faqs/new", {
        "key": "mortgage_offer", "category": "loans", "question": "Do you offer mortgages?",
        "answer": "Not yet.", "alternates": "can I get a mortgage to buy a flat\nhome loan",
        "comment": "new product question"}).headers["location"]
    page = erin.get(draft, params={"text": "can I get a mortgage to buy a flat"}).text
    assert "Live: <span class=\"decision\">" in page
    assert re.search(r"With draft \d+: <span class=\"decision\">answer", page)
    assert "mortgage_offer" in page


def test_an_faq_with_few_phrasings_asks_staff_for_more(staff) -> None:  # type: ignore[no-untyped-def]
    erin, rita = staff("erin"), staff("rita")
    assert "as many as you can" in erin.get("/staff/faqs/new").text
    draft = erin.post("/staff/faqs/new", {
        "key": "joint_account", "category": "accounts", "question": "Can I open a joint account?",
        "answer": "Not yet.", "alternates": "open an account with my partner\nshared account",
        "comment": "new product question"}).headers["location"]
    assert rita.post(draft + "/publish").status_code == 303
    page = erin.get("/staff/faqs/joint_account").text
    assert 'id="few-phrasings"' in page and "With 3 phrasings" in page
    assert 'id="few-phrasings"' not in erin.get("/staff/faqs/card_arrival").text


@pytest.mark.parametrize("path", ["/staff/faqs?q=card&category=cards", "/staff/drafts?status=all",
                                  "/staff/inbox", "/staff/tickets?status=all", "/staff/transfer",
                                  "/staff/try?text=hello", "/staff/faqs/new"])
def test_pages_render_for_an_editor(staff, path: str) -> None:  # type: ignore[no-untyped-def]
    assert staff("erin").get(path).status_code == 200


def test_staff_can_list_the_complaints_alone(staff, console_services: Services) -> None:  # type: ignore[no-untyped-def]
    tickets = console_services.tickets
    complaint = tickets.create_ticket(conversation_id="c1", reason="complaint", candidates=[],
                                      transcript=[{"from": "customer", "text": "I complain"}])
    other = tickets.create_ticket(conversation_id="c2", reason="no_matching_faq", candidates=[],
                                  transcript=[{"from": "customer", "text": "a mortgage?"}])
    page = staff("erin").get("/staff/tickets", params={"status": "all", "reason": "complaint"})
    assert complaint.reference in page.text and other.reference not in page.text
    every = staff("erin").get("/staff/tickets", params={"status": "all"}).text
    assert complaint.reference in every and other.reference in every
