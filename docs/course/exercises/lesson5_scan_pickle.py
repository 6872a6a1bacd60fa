"""Lesson 5, exercise 1: list what a pickle would import, without running it.

Write ``scan_pickle(data)``: the globals that the pickle ``data`` (bytes) looks up, as
``"module.name"`` strings, in the order the pickle looks them up (a global looked up once
and then reused from the memo counts once). Never unpickle ``data``: walk its opcodes with
``pickletools.genops(data)``, which yields ``(opcode, arg, position)`` without executing
anything (https://docs.python.org/3/library/pickletools.html).

The opcodes that matter:

- ``GLOBAL`` (protocols 0-3): ``arg`` is ``"module name"`` (a space between the two);
- ``STACK_GLOBAL`` (protocol 4+): takes the module and the name from the two values pushed
  before it, strings pushed by ``SHORT_BINUNICODE``, ``BINUNICODE``, ``UNICODE``, ... or
  fetched from the memo;
- the memo: ``MEMOIZE`` stores the top of the stack under the next free index (0, 1, ...),
  ``PUT`` / ``BINPUT`` / ``LONG_BINPUT`` under the index ``arg``; ``GET`` / ``BINGET`` /
  ``LONG_BINGET`` push the value stored under ``arg`` again.

Example: ``scan_pickle(pickle.dumps([shutil.copyfile, shutil.rmtree]))`` is
``['shutil.copyfile', 'shutil.rmtree']`` (in protocols 4 and 5 the second ``'shutil'``
comes from the memo).

Check it:  python docs/course/_runner.py check 5
"""
import pickletools


def scan_pickle(data):
    raise NotImplementedError("exercise: write scan_pickle")
