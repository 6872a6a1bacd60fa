import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the ONNX conformance counts when the node tests ran."""
    module = sys.modules.get("test_onnx_backend_nodes")
    if module is None:
        for name, mod in list(sys.modules.items()):
            if name.endswith("test_onnx_backend_nodes"):
                module = mod
                break
    if module is None:
        return
    stats = module.STATS
    passed = sum(1 for r in terminalreporter.stats.get("passed", [])
                 if "test_onnx_node_case" in r.nodeid)
    terminalreporter.write_line(
        f"ONNX backend node tests: {stats['total']} cases, {stats['supported']} with every "
        f"operator supported, {passed} passed, {stats['excluded']} excluded "
        "(onnx_node_exclusions.txt)")
