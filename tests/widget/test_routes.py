"""The widget's HTTP side: the demo page, its static files, the vendored client, ratings."""

from __future__ import annotations

import json
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.feedback import FeedbackStore
from bot.service import create_app
from bot.services import Services
from bot.widget import mount_widget
from bot.widget.routes import STATIC_DIR, WIDGET_DIR

RATING = {"conversation_id": "route-test", "message_id": "reply:m1:0",
          "message": "Cards usually arrive within 5–7 working days.",
          "question": "where is my card", "rating": "down"}


@pytest.fixture(scope="module")
def client(services: Services) -> TestClient:
    with TestClient(create_app(services, watch_faqs=False)) as client:
        yield client


def test_demo_page_embeds_the_widget_with_rasas_url_on_the_requests_host(
        client: TestClient, services: Services) -> None:
    page = client.get("/", headers={"host": "help.bramblewood.test:8000"})
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Bramblewood" in page.text
    tag = re.search(r"<script src=\"([^\"]+)\"\s+data-server-url=\"([^\"]+)\"", page.text)
    assert tag is not None
    assert tag.group(1) == "http://help.bramblewood.test:8000/widget/bramblewood-chat.js"
    assert tag.group(2) == f"http://help.bramblewood.test:{services.settings.rasa_port}"


def test_demo_page_uses_the_public_rasa_url_setting(services: Services) -> None:
    configured = Services(services.settings.model_copy(
        update={"public_rasa_url": "https://chat.bramblewood.example/"}))
    app = FastAPI()
    mount_widget(app, configured)
    try:
        page = TestClient(app).get("/").text
    finally:
        configured.db.dispose()
    assert 'data-server-url="https://chat.bramblewood.example"' in page


@pytest.mark.parametrize("path,content_type", [
    ("/widget/bramblewood-chat.js", "javascript"),
    ("/widget/bramblewood-chat.css", "text/css"),
    ("/widget/vendor/socket.io.min.js", "javascript"),
])
def test_widget_files_are_served_from_the_package(client: TestClient, path: str,
                                                  content_type: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert content_type in response.headers["content-type"]


def test_vendored_socketio_client_is_the_pinned_4x_release() -> None:
    # Rasa 3.6's python-socketio 5 speaks Engine.IO 4: only socket.io-client 4.x matches.
    pinned = json.loads((WIDGET_DIR / "package.json").read_text())["dependencies"]
    locked = json.loads((WIDGET_DIR / "package-lock.json").read_text())["packages"]
    version = pinned["socket.io-client"]
    assert re.fullmatch(r"4\.\d+\.\d+", version)
    assert locked["node_modules/socket.io-client"]["version"] == version
    bundle = (STATIC_DIR / "vendor" / "socket.io.min.js").read_text()
    assert bundle.startswith(f"/*!\n * Socket.IO v{version}\n")
    assert "MIT" in (STATIC_DIR / "vendor" / "socket.io-client.LICENSE").read_text()


def test_rating_is_stored_and_allowed_from_other_origins(client: TestClient,
                                                         services: Services) -> None:
    response = client.post("/feedback", json=RATING, headers={"origin": "https://bank.example"})
    assert response.status_code == 201
    assert response.json() == {"message_id": "reply:m1:0", "rating": "down"}
    assert response.headers["access-control-allow-origin"] == "*"
    [saved] = FeedbackStore(services.db).list_feedback(conversation_id="route-test")
    assert (saved.message, saved.question, saved.rating) == (
        RATING["message"], "where is my card", "down")


def test_rating_preflight_allows_json_posts(client: TestClient) -> None:
    response = client.options("/feedback", headers={
        "origin": "https://bank.example", "access-control-request-method": "POST"})
    assert response.status_code == 204
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "Content-Type"


@pytest.mark.parametrize("change", [
    {"rating": "meh"}, {"message": ""}, {"conversation_id": "x" * 256}, {"message_id": None}])
def test_invalid_rating_is_refused_with_400(client: TestClient, change: dict) -> None:
    assert client.post("/feedback", json={**RATING, **change}).status_code == 400
