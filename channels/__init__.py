"""Code of ours that Rasa loads into its own process (Python 3.10, .venv-rasa), not bot.

Input channels (rest, socketio, via credentials.yml) and the tracker store (via
endpoints.yml). Importing the package also hides card details in every message before Rasa
handles or stores it (sensitive.py), and speeds up seven hot spots in Rasa itself.
"""

from channels import (
    action_call,
    action_client,
    action_validation,
    empty_domain,
    graph_runner,
    sensitive,
    tracker_history,
)

action_call.install()
action_client.install()
action_validation.install()
empty_domain.install()
graph_runner.install()
sensitive.install()
tracker_history.install()
