"""Code of ours that Rasa loads into its own process (Python 3.10, .venv-rasa), not bot.

Input channels (rest, socketio, via credentials.yml) and the tracker store (via
endpoints.yml). Importing the package also speeds up seven hot spots in Rasa itself.
"""

from channels import (
    action_call,
    action_client,
    action_validation,
    empty_domain,
    graph_runner,
    tracker_history,
)

action_call.install()
action_client.install()
action_validation.install()
empty_domain.install()
graph_runner.install()
tracker_history.install()
