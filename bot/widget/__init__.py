"""The web chat widget customers use on the bank's site (issue 6).

static/ holds the widget (bramblewood-chat.js, .css) and the vendored socket.io client;
routes.py serves them, the demo help page at / and the 👍/👎 endpoint.
"""

from bot.widget.routes import mount_widget

__all__ = ["mount_widget"]
