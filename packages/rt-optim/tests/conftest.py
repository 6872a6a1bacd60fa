import pathlib
import sys

# the table and the numpy oracles are plain modules next to the tests
sys.path.insert(0, str(pathlib.Path(__file__).parent))
