"""The chat widget in real headless Chromium against the whole running assistant (issue 6).

The demo page comes from the bot service, the socket goes to Rasa's socketio channel
(channels/socketio.py), both on free ports started by bot/stack.py.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from bot.config import PROJECT_DIR
from bot.db import Database
from bot.feedback import FeedbackStore
from bot.stack import Stack

pytestmark = pytest.mark.e2e

REFERENCE = re.compile(r"BW-[A-Z0-9]{6}")
ANSWERS = ".bw-msg-bot:not(.bw-msg-intro)"
SCREENSHOT = PROJECT_DIR / "reports" / "widget.png"
PHONE_SCREENSHOT = PROJECT_DIR / "reports" / "widget-360.png"
REPLY_TIMEOUT_MS = 60_000


def plain(markdown: str) -> str:
    """Return the text a reader sees for our limited Markdown."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", markdown)
    return re.sub(r"\*\*(.+?)\*\*", r"\1", text)


def faq_answer(stack: Stack, key: str) -> str:
    response = httpx.get(f"{stack.settings.service_url}/faqs/{key}", timeout=30)
    response.raise_for_status()
    return response.json()["answer"]


class Widget:
    """A customer using the widget on the demo page."""

    def __init__(self, page: Page, stack: Stack) -> None:
        self.page = page
        self.stack = stack

    def visit(self) -> Widget:
        self.page.goto(f"{self.stack.settings.service_url}/")
        expect(self.page.locator(".bw-launcher")).to_be_visible()
        return self

    def open(self) -> Widget:
        self.page.click(".bw-launcher")
        expect(self.page.locator(".bw-panel")).to_be_visible()
        return self

    def answers(self) -> list[str]:
        return self.page.locator(f"{ANSWERS} .bw-text").all_inner_texts()

    def messages(self) -> list[str]:
        return self.page.locator(".bw-msg:not(.bw-msg-intro) .bw-text").all_inner_texts()

    def wait_for_answers(self, more_than: int) -> None:
        """Wait until there are more answers than before and no message awaits its replies."""
        self.page.wait_for_function(
            """([selector, count]) => document.querySelectorAll(selector).length > count
                 && document.querySelector('.bw-typing').hidden""",
            arg=[ANSWERS, more_than], timeout=REPLY_TIMEOUT_MS)

    def ask(self, text: str) -> list[str]:
        """Type and send a message; return the new answers."""
        before = len(self.answers())
        self.page.fill(".bw-input", text)
        self.page.press(".bw-input", "Enter")
        self.wait_for_answers(before)
        return self.answers()[before:]

    def session_id(self) -> str:
        return self.page.evaluate("window.BramblewoodChat.sessionId()")

    def user_texts_in_rasa(self) -> list[str]:
        """Return what Rasa's tracker recorded the customer saying, in order."""
        response = httpx.get(
            f"{self.stack.rasa_url}/conversations/{self.session_id()}/tracker",
            params=self.stack.rasa_api_params, timeout=30)
        response.raise_for_status()
        return [e["text"] for e in response.json()["events"] if e["event"] == "user"]


@pytest.fixture
def widget(page: Page, stack: Stack) -> Widget:
    return Widget(page, stack).visit()


def test_routine_question_gets_the_faq_answer_and_can_be_rated(widget: Widget,
                                                               stack: Stack) -> None:
    widget.open()
    expect(widget.page.locator(".bw-input")).to_be_focused()

    answers = widget.ask("It's been two weeks and my new card still hasn't arrived")

    expected = faq_answer(stack, "card_arrival")
    assert answers == [plain(expected)]
    answer = widget.page.locator(ANSWERS).last
    expect(answer.locator("strong").first).to_be_visible()  # **bold** rendered, not shown
    expect(answer.locator("time")).to_have_count(1)
    expect(widget.page.locator(".bw-live")).to_contain_text(plain(expected)[:40])

    SCREENSHOT.parent.mkdir(exist_ok=True)
    widget.page.screenshot(path=str(SCREENSHOT))

    answer.get_by_role("button", name="Not helpful").click()
    expect(answer.get_by_role("button", name="Not helpful")).to_have_attribute(
        "aria-pressed", "true")
    database = Database(stack.settings.db_url)
    try:
        [saved] = FeedbackStore(database).list_feedback(conversation_id=widget.session_id())
    finally:
        database.dispose()
    assert (saved.rating, saved.message) == ("down", expected)
    assert saved.question == "It's been two weeks and my new card still hasn't arrived"


def test_clarify_quick_reply_gets_the_picked_faqs_answer(widget: Widget, stack: Stack) -> None:
    widget.open()
    [question] = widget.ask("top up")
    assert "Which of these" in question

    replies = widget.page.locator(".bw-quick-reply")
    payloads = [replies.nth(i).get_attribute("data-payload") for i in range(replies.count())]
    assert payloads[-1] == "/request_human"
    assert sum(p.startswith("/choose_faq") for p in payloads) == 2
    key = re.search(r'"faq_key": "(\w+)"', payloads[1]).group(1)
    title = replies.nth(1).inner_text()

    before = len(widget.answers())
    replies.nth(1).click()
    widget.wait_for_answers(before)

    assert widget.answers()[before:] == [plain(faq_answer(stack, key))]
    assert widget.messages()[-2] == title  # the customer sees the title, not the payload
    expect(widget.page.locator(".bw-quick")).to_be_hidden()


def test_reload_keeps_the_history_and_the_conversation_continues(widget: Widget,
                                                                 stack: Stack) -> None:
    widget.open()
    widget.ask("hello")
    widget.ask("how do I freeze my card")
    before, session = widget.messages(), widget.session_id()

    widget.page.reload()

    expect(widget.page.locator(".bw-panel")).to_be_visible()  # it was open: still open
    assert widget.messages() == before
    assert widget.session_id() == session
    assert widget.ask("somebody stole my card") == [plain(faq_answer(stack, "lost_or_stolen_card"))]
    assert widget.user_texts_in_rasa() == [
        "hello", "how do I freeze my card", "somebody stole my card"]


def test_a_typed_card_number_is_hidden_on_screen_in_the_browser_and_in_rasa(
    widget: Widget,
) -> None:
    widget.open()
    answers = widget.ask("my card 4539 1488 0343 6467 was declined")

    assert "hidden the card details" in answers[0]
    masked = "my card [card number ending 6467] was declined"
    expect(widget.page.locator(".bw-msg-user .bw-text").last).to_have_text(masked)
    assert "0343" not in widget.page.evaluate("JSON.stringify(localStorage)")
    assert widget.user_texts_in_rasa() == [masked]


def test_talk_to_a_person_shows_the_ticket_reference(widget: Widget, stack: Stack) -> None:
    widget.open()
    before = len(widget.answers())
    widget.page.get_by_role("button", name="Talk to a person").click()
    widget.wait_for_answers(before)

    reference = widget.page.locator(".bw-msg-escalated .bw-ticket-ref").inner_text()
    assert REFERENCE.fullmatch(reference)
    ticket = httpx.get(f"{stack.settings.service_url}/tickets/{reference}", timeout=30).json()
    assert ticket["conversation_id"] == widget.session_id()
    assert ticket["reason"] == "customer_asked_for_person"
    assert widget.user_texts_in_rasa() == ["/request_human"]


def focused(page: Page, selector: str) -> bool:
    return page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector)


def tab_to(page: Page, selector: str, *, key: str = "Tab", limit: int = 40) -> None:
    for _ in range(limit):
        if focused(page, selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} never reached {selector}")


def test_keyboard_only_open_ask_pick_a_button_and_close(widget: Widget, stack: Stack) -> None:
    page = widget.page
    tab_to(page, ".bw-launcher")
    page.keyboard.press("Enter")
    assert focused(page, ".bw-input")

    before = len(widget.answers())
    page.keyboard.type("top up")
    page.keyboard.press("Enter")
    widget.wait_for_answers(before)

    tab_to(page, '.bw-quick-reply[data-payload^="/choose_faq"]', key="Shift+Tab")
    payload = page.evaluate("document.activeElement.dataset.payload")
    key = re.search(r'"faq_key": "(\w+)"', payload).group(1)
    before = len(widget.answers())
    page.keyboard.press("Enter")
    widget.wait_for_answers(before)
    assert widget.answers()[-1] == plain(faq_answer(stack, key))
    assert focused(page, ".bw-input")

    page.keyboard.press("Escape")
    expect(page.locator(".bw-panel")).to_be_hidden()
    assert focused(page, ".bw-launcher")
    assert page.get_attribute(".bw-launcher", "aria-expanded") == "false"


def test_rasa_restart_mid_conversation_reconnects_without_losing_or_repeating(
        widget: Widget, stack: Stack) -> None:
    widget.open()
    widget.ask("hello")

    stack.stop_rasa()
    expect(widget.page.locator(".bw-connection")).to_have_text("Reconnecting…")
    # Sent while Rasa is down: kept in the outbox, shown once, delivered after reconnecting.
    widget.page.fill(".bw-input", "somebody stole my card")
    widget.page.press(".bw-input", "Enter")
    expect(widget.page.locator(".bw-pending")).to_have_count(1)
    stack.start_rasa()

    widget.wait_for_answers(1)
    expect(widget.page.locator(".bw-connection")).to_be_empty()
    assert widget.answers()[-1] == plain(faq_answer(stack, "lost_or_stolen_card"))
    [greeting] = widget.ask("hello again")
    assert "Bramblewood" in greeting
    user_messages = widget.page.locator(".bw-msg-user .bw-text").all_inner_texts()
    assert user_messages == ["hello", "somebody stole my card", "hello again"]
    assert widget.user_texts_in_rasa() == user_messages
    expect(widget.page.locator(".bw-pending")).to_have_count(0)


def test_markdown_is_rendered_safely(widget: Widget) -> None:
    html = widget.page.evaluate("""() => window.BramblewoodChat.renderText(
        '<img src=x onerror="window.pwned=1"> **bold** *it* _also_ snake_case_name ' +
        '[privacy](https://bramblewood.example/privacy) [bad](javascript:alert(1))').innerHTML""")
    assert "<img" not in html and "&lt;img" in html
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html and "<em>also</em>" in html
    assert "snake_case_name" in html
    assert ('<a href="https://bramblewood.example/privacy" target="_blank" '
            'rel="noopener noreferrer">privacy') in html
    assert not [href for href in re.findall(r'href="([^"]*)"', html) if "javascript" in href]
    assert "[bad](javascript:alert(1))" in html

    widget.open()
    widget.ask('<img src=x onerror="window.pwned=1"> hi')
    assert widget.page.evaluate("window.pwned") is None
    assert widget.page.locator(".bw-log img").count() == 0


CONTRAST_SCRIPT = """() => {
  const lum = (rgb) => {
    const [r, g, b] = rgb.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (node) => {
    for (; node; node = node.parentElement) {
      const bg = getComputedStyle(node).backgroundColor;
      if (bg && !/rgba\\(.*,\\s*0\\)$/.test(bg) && bg !== 'transparent') return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  const low = [];
  for (const node of document.querySelectorAll('.bw-chat *')) {
    const own = [...node.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !node.getClientRects().length || node.closest('.bw-sr')) continue;
    const [a, b] = [lum(getComputedStyle(node).color), lum(background(node))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(`${node.className || node.tagName}: ${ratio.toFixed(2)}`);
  }
  return low;
}"""


def test_usable_at_360px_with_aa_contrast(page: Page, stack: Stack) -> None:
    page.set_viewport_size({"width": 360, "height": 640})
    widget = Widget(page, stack).visit()
    assert page.evaluate(CONTRAST_SCRIPT) == []  # the launcher
    widget.open()
    widget.ask("top up")

    box = page.locator(".bw-panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert box["y"] >= 0 and box["y"] + box["height"] <= 640
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for selector in (".bw-input", ".bw-send", ".bw-close", ".bw-human", ".bw-quick-reply"):
        expect(page.locator(selector).first).to_be_in_viewport()
    assert page.evaluate(CONTRAST_SCRIPT) == []
    PHONE_SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(PHONE_SCREENSHOT))


RESEND_SCRIPT = """async (url) => {
  const socket = io(url, {transports: ['websocket']});
  const replies = [];
  socket.on('bot_uttered', (message) => replies.push(message));
  await new Promise((resolve) => socket.on('connect', resolve));
  const sessionId = 'resend-' + Math.random().toString(16).slice(2);
  const confirmed = new Promise((resolve) => socket.once('session_confirm', resolve));
  socket.emit('session_request', {session_id: sessionId});
  const confirmedId = await confirmed;
  const message = {message: 'hello', session_id: sessionId, message_id: 'm-1'};
  const first = await socket.timeout(60000).emitWithAck('user_uttered', message);
  const second = await socket.timeout(60000).emitWithAck('user_uttered', message);
  const anonymous = await socket.timeout(60000).emitWithAck('user_uttered', {message: 'hi'});
  socket.close();
  return {sessionId, confirmedId, first, second, anonymous, replies};
}"""


def test_resent_message_is_run_once_and_its_replies_replayed(widget: Widget,
                                                             stack: Stack) -> None:
    # What the widget does when a message's acknowledgement was lost with the connection.
    widget.page.wait_for_function("typeof window.io === 'function'")
    result = widget.page.evaluate(RESEND_SCRIPT, stack.rasa_url)

    assert result["confirmedId"] == result["sessionId"]
    assert result["first"] == {"status": "ok", "message_id": "m-1", "text": "hello"}
    assert result["second"] == {"status": "ok", "message_id": "m-1", "text": "hello",
                                "replayed": True}
    assert result["anonymous"]["status"] == "error"
    first, replayed = result["replies"]
    assert first == replayed and (first["reply_to"], first["seq"]) == ("m-1", 0)
    assert "Bramblewood" in first["text"]
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{result['sessionId']}/tracker",
                        params=stack.rasa_api_params, timeout=30).json()
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == ["hello"]
