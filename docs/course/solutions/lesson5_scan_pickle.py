"""Lesson 5, exercise 1, worked solution: list what a pickle would import, without running it.

We follow just enough of the stack machine to know the strings on top of the stack: every
opcode pushes "something" (a string when it is a string opcode or a memo fetch of a string,
None otherwise); the memo remembers what was on top when it was stored. Opcodes that pop
values do not matter here, because a pickler always pushes the module and the name of a
STACK_GLOBAL right before it (at most with MEMOIZE in between, which does not change the
stack).
"""
import pickletools

_STRING_OPCODES = {"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "SHORT_BINUNICODE",
                   "BINUNICODE", "BINUNICODE8"}
_PUT_OPCODES = {"PUT", "BINPUT", "LONG_BINPUT"}
_GET_OPCODES = {"GET", "BINGET", "LONG_BINGET"}


def scan_pickle(data):
    found = []
    memo = {}
    pushed = []                  # what each opcode pushed: a str we know, or None
    for opcode, arg, _ in pickletools.genops(data):
        name = opcode.name
        if name == "GLOBAL":
            module, attribute = arg.split(" ", 1)
            found.append(f"{module}.{attribute}")
            pushed.append(None)
        elif name == "STACK_GLOBAL":
            module, attribute = pushed[-2], pushed[-1]
            found.append(f"{module}.{attribute}")
            pushed.append(None)
        elif name in _STRING_OPCODES:
            pushed.append(arg)
        elif name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
        elif name in _PUT_OPCODES:
            memo[arg] = pushed[-1] if pushed else None
        elif name in _GET_OPCODES:
            pushed.append(memo.get(arg))
        else:
            pushed.append(None)
    return found
