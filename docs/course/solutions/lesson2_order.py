"""Lesson 2, exercise 2: the engine's order (worked solution)."""
from collections import deque


def _nexts(node):
    return [n for n, _ in node.next_functions if n is not None]


def topological_order(output):
    """Every node reachable from ``output.grad_fn``, each once, each before its
    next_functions (Kahn's algorithm over the engine's dependency counts)."""
    root = output.grad_fn
    # 1. count the edges into every node (an edge listed twice counts twice)
    dependencies = {id(root): 0}
    to_visit, seen = [root], {id(root)}
    while to_visit:
        node = to_visit.pop()
        for nxt in _nexts(node):
            dependencies[id(nxt)] = dependencies.get(id(nxt), 0) + 1
            if id(nxt) not in seen:
                seen.add(id(nxt))
                to_visit.append(nxt)
    # 2. release a node when every edge into it has been seen
    order, ready = [], deque([root])
    while ready:
        node = ready.popleft()
        order.append(node)
        for nxt in _nexts(node):
            dependencies[id(nxt)] -= 1
            if dependencies[id(nxt)] == 0:
                ready.append(nxt)
    return order
