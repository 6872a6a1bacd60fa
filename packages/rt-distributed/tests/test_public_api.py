"""The public API is explicit and locked: rt_distributed.__all__ equals public_api.txt, every
name exists, the issue's names are there, and the layering holds (rt_distributed sits on
rt-nn and rt-optim; nothing below imports it)."""
import pathlib
import re

import rt_distributed

HERE = pathlib.Path(__file__).parent

ISSUE_NAMES = """init_process_group is_initialized get_rank get_world_size barrier
destroy_process_group all_reduce ReduceOp broadcast all_gather reduce_scatter gather scatter
DistributedDataParallel DistributedSampler""".split()


def test_all_matches_the_locked_file():
    assert len(rt_distributed.__all__) == len(set(rt_distributed.__all__))
    assert sorted(rt_distributed.__all__) == sorted((HERE / "public_api.txt").read_text().split())


def test_every_public_name_exists_and_the_issue_names_are_there():
    assert not [n for n in rt_distributed.__all__ if getattr(rt_distributed, n, None) is None]
    assert not [n for n in ISSUE_NAMES if n not in rt_distributed.__all__]
    assert [op for op in "SUM AVG MAX MIN PRODUCT".split()
            if not hasattr(rt_distributed.ReduceOp, op)] == []


def test_the_launcher_module_has_its_entry_point():
    from rt_distributed import run
    assert callable(run.main)


def test_the_layers_below_do_not_import_rt_distributed():
    import rt_nn
    import rt_optim
    imports = re.compile(r"^\s*(import|from|cimport)\s+rt_distributed\b", re.M)
    for pkg in (rt_nn, rt_optim):
        src = pathlib.Path(pkg.__file__).parent
        offenders = [p.name for ext in ("*.py", "*.pyx", "*.pxi") for p in src.rglob(ext)
                     if imports.search(p.read_text())]
        assert not offenders, (pkg.__name__, offenders)
