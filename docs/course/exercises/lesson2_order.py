"""Lesson 2, exercise 2: the order in which the backward engine can run a graph's nodes.

Check your work with ``python docs/course/_runner.py check 2``.
"""


def topological_order(output):
    """Every node reachable from ``output.grad_fn``, each exactly once, as a list in which
    each node comes before every node of its ``next_functions``.

    ``node.next_functions`` is a tuple of ``(next_node, input_number)`` pairs; ``next_node``
    is None for an input that needs no gradient (a constant). A node can appear there more
    than once (``a * a``). Suggested method (Kahn's algorithm, the engine's dependency
    counts): visit the graph once to count, for each node, how many edges point to it; then
    start from ``output.grad_fn`` and emit a node when its count has dropped to zero.
    Nodes are compared by identity (``id(node)``), not by name.
    """
    raise NotImplementedError(
        "exercise: order the graph's nodes so that each comes before its next_functions")
