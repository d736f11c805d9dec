/*!
 * Bramblewood Bank chat widget (issue 6). Plain JS, no build step.
 * Embed with one tag (see bot/widget/embed.html):
 *   <script src=".../widget/bramblewood-chat.js" data-server-url="https://rasa.example" defer></script>
 * It loads bramblewood-chat.css and vendor/socket.io.min.js (socket.io-client 4.x, which
 * speaks Engine.IO 4 like Rasa 3.6's python-socketio 5) from beside itself.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.BramblewoodChat) return;

  // Ticket references from utter_escalated (domain.yml), e.g. BW-7KQ2MX.
  var REFERENCE = /\bBW-[A-Z0-9]{6}\b/;
  var HUMAN_PAYLOAD = "/request_human";
  var MAX_HISTORY = 300;
  var MAX_MESSAGE_CHARS = 2000;
  // A turn's acknowledgement comes once all its replies are sent; past this, reconnect and resend.
  var ACK_TIMEOUT_MS = 60000;

  var base = new URL(".", script.src);
  var data = script.dataset;
  var cfg = {
    serverUrl: data.serverUrl || location.protocol + "//" + location.hostname + ":5005",
    socketPath: data.socketPath || "/socket.io/",
    title: data.title || "Bramblewood Bank assistant",
    greeting: data.greeting ||
      "Hello! I'm Bramblewood Bank's assistant. Ask me about your card, payments, transfers or top-ups.",
    launcherLabel: data.launcherLabel || "Chat with us",
    primary: data.primaryColour || data.primaryColor || "#0b5d3b",
    onPrimary: data.textColour || data.textColor || "",
    feedbackUrl: data.feedbackUrl === undefined ? new URL("../feedback", base).href : data.feedbackUrl,
    storageKey: data.storageKey || "bramblewood-chat"
  };

  // --- storage: the session id, the rendered history and unsent messages survive reloads ---

  function storageGet(name, fallback) {
    try {
      var raw = localStorage.getItem(cfg.storageKey + ":" + name);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) {
      return fallback;
    }
  }

  function storageSet(name, value) {
    try {
      localStorage.setItem(cfg.storageKey + ":" + name, JSON.stringify(value));
    } catch (e) { /* private mode or full: the widget still works for this page */ }
  }

  function newId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  var state = {
    sessionId: storageGet("session", null),
    history: storageGet("history", []),
    outbox: storageGet("outbox", []),
    socket: null,
    confirmed: false,
    inFlight: null,
    generation: 0,
    open: false
  };
  if (typeof state.sessionId !== "string" || !state.sessionId) {
    state.sessionId = newId();
    storageSet("session", state.sessionId);
  }
  if (!Array.isArray(state.history)) state.history = [];
  if (!Array.isArray(state.outbox)) state.outbox = [];

  function save() {
    if (state.history.length > MAX_HISTORY) {
      state.history = state.history.slice(-MAX_HISTORY);
    }
    storageSet("history", state.history);
    storageSet("outbox", state.outbox);
  }

  function findRecord(id) {
    for (var i = 0; i < state.history.length; i++) {
      if (state.history[i].id === id) return state.history[i];
    }
    return null;
  }

  // --- safe Markdown: text nodes only; **bold**, *italic*, _italic_ and [links](https://...) ---

  var INLINE = /\[([^\]\n]+)\]\(([^()\s]+)\)|\*\*(.+?)\*\*|\*(?![\s*])([^*\n]+?)\*|(^|[^\w])_(?![\s_])([^_\n]+?)_(?!\w)/g;

  function safeUrl(href) {
    try {
      var url = new URL(href, location.href);
      return /^(https?|mailto|tel):$/.test(url.protocol) ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function renderInline(text, parent, inLink) {
    var last = 0;
    var match;
    var re = new RegExp(INLINE.source, "g");
    while ((match = re.exec(text)) !== null) {
      var start = match.index;
      if (match[5] !== undefined) start += match[5].length; // keep the char before _
      if (match[1] !== undefined && inLink) continue;
      if (match[1] !== undefined && !safeUrl(match[2])) continue; // shown as typed
      parent.appendChild(document.createTextNode(text.slice(last, start)));
      var node;
      if (match[1] !== undefined) {
        node = document.createElement("a");
        node.href = safeUrl(match[2]);
        node.target = "_blank";
        node.rel = "noopener noreferrer";
        renderInline(match[1], node, true);
        var hint = document.createElement("span");
        hint.className = "bw-sr";
        hint.textContent = " (opens in a new tab)";
        node.appendChild(hint);
      } else if (match[3] !== undefined) {
        node = document.createElement("strong");
        renderInline(match[3], node, inLink);
      } else {
        node = document.createElement("em");
        renderInline(match[4] !== undefined ? match[4] : match[6], node, inLink);
      }
      parent.appendChild(node);
      last = re.lastIndex;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  /** Return a <div> showing text as limited Markdown; nothing in text becomes markup. */
  function renderText(text) {
    var div = document.createElement("div");
    div.className = "bw-text";
    String(text).split("\n").forEach(function (line, i) {
      if (i) div.appendChild(document.createElement("br"));
      renderInline(line, div, false);
    });
    return div;
  }

  // --- colours: text on the brand colour is black or white, whichever contrasts more ---

  function luminance(hex) {
    var m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(hex.trim());
    if (!m) return null;
    var h = m[1].length === 3 ? m[1].replace(/./g, "$&$&") : m[1];
    var c = [0, 2, 4].map(function (i) {
      var v = parseInt(h.substr(i, 2), 16) / 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }

  function textOn(background) {
    var l = luminance(background);
    if (l === null) return "#ffffff";
    return (1.05 / (l + 0.05)) >= ((l + 0.05) / 0.05) ? "#ffffff" : "#111111";
  }

  // --- the DOM ---

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "className") node.className = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  // Icons are inline SVG, not emoji: not every system has an emoji font.
  var ICONS = {
    chat: "M20 2H4c-1.1 0-2 .9-2 2v18l4-4h14c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2z",
    up: "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06" +
        "L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22" +
        "l3.02-7.05c.09-.23.14-.47.14-.73v-2z"
  };

  function icon(name, flip) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "bw-icon");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    if (flip) path.setAttribute("transform", "rotate(180 12 12)");
    svg.appendChild(path);
    return svg;
  }

  var css = el("link", { rel: "stylesheet", href: new URL("bramblewood-chat.css", base).href });
  document.head.appendChild(css);

  var ui = {};
  ui.root = el("div", { className: "bw-chat", "data-bramblewood-chat": "" });
  ui.root.style.setProperty("--bw-primary", cfg.primary);
  ui.root.style.setProperty("--bw-on-primary", cfg.onPrimary || textOn(cfg.primary));

  ui.launcher = el("button", {
    type: "button", className: "bw-launcher", "aria-expanded": "false",
    "aria-controls": "bw-chat-panel", "aria-haspopup": "dialog"
  }, [
    icon("chat"),
    el("span", { text: cfg.launcherLabel })
  ]);

  ui.title = el("h2", { id: "bw-chat-title", className: "bw-title", text: cfg.title });
  ui.connection = el("p", { className: "bw-connection", role: "status" });
  ui.close = el("button", { type: "button", className: "bw-close", "aria-label": "Close chat" }, [
    el("span", { "aria-hidden": "true", text: "×" })
  ]);
  ui.log = el("ol", {
    className: "bw-log", role: "log", "aria-live": "off", "aria-label": "Conversation",
    tabindex: "0"
  });
  ui.typing = el("div", { className: "bw-typing", hidden: "" }, [
    el("span", { className: "bw-sr", text: "The assistant is typing" }),
    el("span", { className: "bw-dot", "aria-hidden": "true" }),
    el("span", { className: "bw-dot", "aria-hidden": "true" }),
    el("span", { className: "bw-dot", "aria-hidden": "true" })
  ]);
  ui.quick = el("div", { className: "bw-quick", role: "group", "aria-label": "Suggested replies", hidden: "" });
  ui.live = el("div", { className: "bw-sr bw-live", "aria-live": "polite", "aria-atomic": "false" });
  ui.input = el("textarea", {
    id: "bw-chat-input", className: "bw-input", rows: "1", maxlength: String(MAX_MESSAGE_CHARS),
    placeholder: "Type your question", autocomplete: "off"
  });
  ui.send = el("button", { type: "submit", className: "bw-send", text: "Send" });
  ui.form = el("form", { className: "bw-form" }, [
    el("label", { "for": "bw-chat-input", className: "bw-sr", text: "Your message" }),
    ui.input, ui.send
  ]);
  ui.human = el("button", { type: "button", className: "bw-human", text: "Talk to a person" });
  ui.panel = el("section", {
    id: "bw-chat-panel", className: "bw-panel", role: "dialog", "aria-labelledby": "bw-chat-title",
    hidden: ""
  }, [
    el("header", { className: "bw-header" }, [
      el("div", {}, [ui.title, ui.connection]), ui.close
    ]),
    ui.log, ui.typing, ui.quick, ui.form,
    el("div", { className: "bw-footer" }, [ui.human]),
    ui.live
  ]);
  ui.root.appendChild(ui.panel);
  ui.root.appendChild(ui.launcher);

  // --- rendering messages ---

  function timeElement(ts) {
    var date = new Date(ts);
    return el("time", {
      className: "bw-time", datetime: date.toISOString(),
      text: date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    });
  }

  function previousUserText(rec) {
    var i = state.history.indexOf(rec);
    for (i -= 1; i >= 0; i--) {
      if (state.history[i].from === "user") return state.history[i].text;
    }
    return "";
  }

  function rateable(rec) {
    return rec.from === "bot" && !rec.reference && !(rec.buttons && rec.buttons.length) &&
      Boolean(cfg.feedbackUrl);
  }

  function ratingButtons(rec) {
    var group = el("div", { className: "bw-rating", role: "group", "aria-label": "Was this answer helpful?" });
    var note = el("span", { className: "bw-rating-note" });
    [["up", "Helpful"], ["down", "Not helpful"]].forEach(function (choice) {
      var button = el("button", {
        type: "button", className: "bw-rate bw-rate-" + choice[0], "aria-label": choice[1],
        "aria-pressed": rec.rating === choice[0] ? "true" : "false", title: choice[1]
      }, [icon("up", choice[0] === "down")]);
      button.addEventListener("click", function () { rate(rec, choice[0], group, note); });
      group.appendChild(button);
    });
    group.appendChild(note);
    return group;
  }

  function messageElement(rec) {
    var mine = rec.from === "user";
    var item = el("li", {
      className: "bw-msg " + (mine ? "bw-msg-user" : "bw-msg-bot") + (rec.reference ? " bw-msg-escalated" : ""),
      "data-message-id": rec.id
    });
    var bubble = el("div", { className: "bw-bubble" }, [
      el("span", { className: "bw-sr", text: mine ? "You said: " : "Assistant said: " }),
      renderText(rec.text)
    ]);
    if (rec.reference) {
      bubble.appendChild(el("p", { className: "bw-ticket" }, [
        el("span", { text: "Your reference " }),
        el("strong", { className: "bw-ticket-ref", text: rec.reference })
      ]));
    }
    item.appendChild(bubble);
    var meta = el("div", { className: "bw-meta" }, [timeElement(rec.ts)]);
    if (mine && state.outbox.indexOf(rec.id) !== -1) {
      meta.appendChild(el("span", { className: "bw-pending", text: " · sending…" }));
    }
    item.appendChild(meta);
    if (rateable(rec)) item.appendChild(ratingButtons(rec));
    return item;
  }

  function renderQuickReplies() {
    var last = state.history[state.history.length - 1];
    var hadFocus = ui.quick.contains(document.activeElement);
    ui.quick.textContent = "";
    var buttons = last && last.from === "bot" ? last.buttons || [] : [];
    buttons.forEach(function (b) {
      var button = el("button", { type: "button", className: "bw-quick-reply", text: b.title,
                                  "data-payload": b.payload });
      button.addEventListener("click", function () {
        sendMessage(b.title, b.payload);
        ui.input.focus();
      });
      ui.quick.appendChild(button);
    });
    ui.quick.hidden = buttons.length === 0;
    if (hadFocus && buttons.length === 0) ui.input.focus();
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function renderAll() {
    ui.log.textContent = "";
    var intro = el("li", { className: "bw-msg bw-msg-bot bw-msg-intro" }, [
      el("div", { className: "bw-bubble" }, [renderText(cfg.greeting)])
    ]);
    ui.log.appendChild(intro);
    state.history.forEach(function (rec) { ui.log.appendChild(messageElement(rec)); });
    renderQuickReplies();
    updateTyping();
    scrollToEnd();
  }

  function append(rec) {
    ui.log.appendChild(messageElement(rec));
    renderQuickReplies();
    scrollToEnd();
  }

  function rerender(rec) {
    var old = ui.log.querySelector('[data-message-id="' + CSS.escape(rec.id) + '"]');
    if (old) old.replaceWith(messageElement(rec));
  }

  function announce(text) {
    var p = el("p", { text: text });
    ui.live.appendChild(p);
    while (ui.live.childNodes.length > 3) ui.live.removeChild(ui.live.firstChild);
  }

  function updateTyping() {
    ui.typing.hidden = state.outbox.length === 0;
    if (!ui.typing.hidden) scrollToEnd();
  }

  function setConnection(text) {
    if (ui.connection.textContent !== text) ui.connection.textContent = text;
  }

  // --- ratings ---

  function rate(rec, rating, group, note) {
    note.textContent = "";
    fetch(cfg.feedbackUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        conversation_id: state.sessionId, message_id: rec.id, message: rec.text,
        question: previousUserText(rec), rating: rating
      })
    }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      rec.rating = rating;
      save();
      group.querySelectorAll(".bw-rate").forEach(function (button) {
        button.setAttribute("aria-pressed", String(button.classList.contains("bw-rate-" + rating)));
      });
      note.textContent = "Thanks for your feedback";
    }).catch(function () {
      note.textContent = "Couldn't send your feedback, please try again";
    });
  }

  // --- the conversation over socket.io ---

  function sendMessage(display, payload) {
    var text = String(display).trim();
    if (!text) return;
    var rec = { id: newId(), from: "user", text: text.slice(0, MAX_MESSAGE_CHARS),
                payload: (payload || text).slice(0, MAX_MESSAGE_CHARS), ts: Date.now() };
    state.history.push(rec);
    state.outbox.push(rec.id);
    save();
    append(rec);
    updateTyping();
    connect();
    pump();
  }

  function delivered(id) {
    state.outbox = state.outbox.filter(function (other) { return other !== id; });
    save();
    var rec = findRecord(id);
    if (rec) rerender(rec);
    updateTyping();
  }

  // One message in flight at a time, oldest first, and only once the session is confirmed,
  // so replies reach this socket and arrive in order.
  function pump() {
    var socket = state.socket;
    if (!socket || !socket.connected || !state.confirmed || state.inFlight) return;
    var id = state.outbox[0];
    if (!id) return;
    var rec = findRecord(id);
    if (!rec) {
      delivered(id);
      pump();
      return;
    }
    var generation = state.generation;
    state.inFlight = id;
    socket.timeout(ACK_TIMEOUT_MS).emit("user_uttered", {
      message: rec.payload, session_id: state.sessionId, message_id: rec.id
    }, function (err, ack) {
      if (generation !== state.generation || state.inFlight !== id) return;
      state.inFlight = null;
      if (err) {
        // No acknowledgement: reconnect; the message is resent and the server replays it.
        socket.disconnect();
        socket.connect();
        return;
      }
      if (ack && ack.status === "error") announce("Sorry, that message could not be sent.");
      // The server hides card details before keeping a message: show and store it so too.
      if (ack && typeof ack.text === "string" && ack.text && ack.text !== rec.payload) {
        rec.text = ack.text;
        rec.payload = ack.text;
      }
      delivered(id);
      pump();
    });
  }

  function receive(message) {
    if (!message || typeof message !== "object") return;
    var id = message.reply_to ? "reply:" + message.reply_to + ":" + message.seq : newId();
    if (findRecord(id)) return; // a replay of a reply already shown
    var text = typeof message.text === "string" ? message.text : "";
    var buttons = (message.quick_replies || message.buttons || []).filter(function (b) {
      return b && typeof b.title === "string" && typeof b.payload === "string";
    }).map(function (b) { return { title: b.title, payload: b.payload }; });
    if (!text && !buttons.length) return; // images and custom payloads aren't supported
    var found = REFERENCE.exec(text);
    var rec = { id: id, from: "bot", text: text, buttons: buttons, ts: Date.now(),
                reference: found ? found[0] : null };
    state.history.push(rec);
    save();
    append(rec);
    announce("Assistant: " + text + (buttons.length ? " Suggested replies: " +
      buttons.map(function (b) { return b.title; }).join(", ") : ""));
  }

  function connect() {
    if (state.socket || typeof window.io !== "function") return;
    var socket = window.io(cfg.serverUrl, {
      path: cfg.socketPath,
      // WebSocket only: Rasa's HTTP long-polling answers carry no CORS headers, so polling
      // from the bank's pages (another origin) would fail.
      transports: ["websocket"],
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000
    });
    state.socket = socket;
    setConnection("Connecting…");
    socket.on("connect", function () {
      state.confirmed = false;
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      if (sessionId && typeof sessionId === "object") sessionId = sessionId.session_id;
      if (typeof sessionId === "string" && sessionId && sessionId !== state.sessionId) {
        state.sessionId = sessionId;
        storageSet("session", sessionId);
      }
      state.confirmed = true;
      setConnection("");
      pump();
    });
    socket.on("bot_uttered", receive);
    socket.on("disconnect", function (reason) {
      state.confirmed = false;
      state.inFlight = null;
      state.generation += 1;
      setConnection("Reconnecting…");
      // A server that closes the socket itself (e.g. on shutdown) is not retried by default.
      if (reason === "io server disconnect") socket.connect();
    });
    socket.on("connect_error", function () {
      setConnection("Reconnecting…");
    });
  }

  // --- opening, closing and the keyboard ---

  function open(options) {
    state.open = true;
    ui.panel.hidden = false;
    ui.root.classList.add("bw-open");
    ui.launcher.setAttribute("aria-expanded", "true");
    try { sessionStorage.setItem(cfg.storageKey + ":open", "1"); } catch (e) { /* ignore */ }
    scrollToEnd();
    if (!options || options.focus !== false) ui.input.focus();
    connect();
  }

  function close() {
    state.open = false;
    ui.panel.hidden = true;
    ui.root.classList.remove("bw-open");
    ui.launcher.setAttribute("aria-expanded", "false");
    try { sessionStorage.removeItem(cfg.storageKey + ":open"); } catch (e) { /* ignore */ }
    ui.launcher.focus();
  }

  ui.launcher.addEventListener("click", function () {
    if (state.open) close(); else open();
  });
  ui.close.addEventListener("click", close);
  ui.panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  ui.form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = ui.input.value;
    if (!text.trim()) return;
    ui.input.value = "";
    sendMessage(text);
  });
  ui.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.form.requestSubmit();
    }
  });
  ui.human.addEventListener("click", function () {
    sendMessage("Talk to a person", HUMAN_PAYLOAD);
    ui.input.focus();
  });

  // Another tab of the same site wrote the conversation: show what it wrote.
  window.addEventListener("storage", function (event) {
    if (event.key === cfg.storageKey + ":history" || event.key === cfg.storageKey + ":outbox") {
      state.history = storageGet("history", []);
      state.outbox = storageGet("outbox", []);
      renderAll();
    }
  });

  function start() {
    document.body.appendChild(ui.root);
    renderAll();
    var wasOpen = false;
    try { wasOpen = sessionStorage.getItem(cfg.storageKey + ":open") === "1"; } catch (e) { /* ignore */ }
    if (wasOpen) open({ focus: false });
    if (state.outbox.length) connect();
  }

  function loadSocketIo(then) {
    if (typeof window.io === "function") {
      then();
      return;
    }
    var tag = el("script", { src: new URL("vendor/socket.io.min.js", base).href });
    tag.addEventListener("load", function () {
      then();
    });
    tag.addEventListener("error", function () {
      setConnection("The chat is unavailable right now.");
    });
    document.head.appendChild(tag);
  }

  window.BramblewoodChat = {
    open: open,
    close: close,
    send: sendMessage,
    renderText: renderText,
    sessionId: function () { return state.sessionId; }
  };

  function boot() {
    start();
    loadSocketIo(function () {
      if (state.open || state.outbox.length) connect();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
