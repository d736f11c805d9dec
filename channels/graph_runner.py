"""Run Rasa's prediction graph in plain Python instead of through dask (issue 4).

Rasa 3.6 runs the dialogue graph for every prediction (two or three per message) with
`dask.get`, which orders, schedules and submits each of its few nodes as tasks: under load
about a tenth of Rasa's CPU went to dask itself, more than the rule policy it ran. The graph
is the same (DaskGraphRunner builds it); this runner evaluates it depth first, each node
once, in the calling thread, as dask's synchronous scheduler does.
"""

from typing import Any, Dict, List, Optional, Text

import rasa.core.processor
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner


class SequentialGraphRunner(DaskGraphRunner):
    """DaskGraphRunner whose graph is evaluated without dask."""

    def run(self, inputs: Optional[Dict[Text, Any]] = None,
            targets: Optional[List[Text]] = None) -> Dict[Text, Any]:
        """Run the nodes the targets need and return the targets' outputs."""
        run_targets = targets if targets else self._graph_schema.target_names
        graph = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
        self._add_inputs_to_graph(inputs, graph)
        done: Dict[Text, Any] = {}

        def value(name: Text) -> Any:
            if name not in done:
                task = graph[name]
                # A node is (GraphNode, *names of what it needs); an input is (its name,
                # its value), and dask passes it, or a name not in the graph, on as it is.
                done[name] = (task[0](*(value(need) if need in graph else need
                                        for need in task[1:]))
                              if callable(task[0]) else task)
            return done[name]

        try:
            return dict(value(target) for target in run_targets)
        except RuntimeError as e:  # as DaskGraphRunner reports dask's failures
            raise GraphRunError("Error running runner.") from e


def install() -> None:
    """Make the message processor load its prediction graph into this runner."""
    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner
