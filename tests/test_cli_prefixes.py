"""A prefix of a CLI option is refused, naming the option it may mean, never silently taken."""

from __future__ import annotations

import pytest

from bayescale.cli import build_parser
from bayescale.cli_common import UsageError

# a valid command line for each command, to which one abbreviated option is appended
VALID = {
    "fit": ["fit", "chinchilla", "runs.csv", "--out", "f.nc"],
    "optimal": ["optimal", "f.nc", "--compute", "1e24"],
    "summary": ["summary", "f.nc"],
    "predict": ["predict", "f.nc", "--at", "N=1e9,D=2e10"],
}


def _cases():
    parser = build_parser()
    sub = next(a for a in parser._actions if hasattr(a, "choices") and a.choices)
    for command, argv in VALID.items():
        options = [o for a in sub.choices[command]._actions for o in a.option_strings]
        for option in options:
            if not option.startswith("--") or len(option) < 6:
                continue
            prefix = option[:-1]
            if any(o.startswith(prefix) and o != option for o in options):
                continue  # ambiguous: argparse refused it before, too
            yield pytest.param(argv, option, prefix, id=f"{command}{prefix}")


@pytest.mark.parametrize(("argv", "option", "prefix"), list(_cases()))
def test_a_prefix_is_refused_with_the_option_named(argv, option, prefix):
    build_parser().parse_args(argv)  # the command line itself is valid
    with pytest.raises(UsageError) as err:
        build_parser().parse_args([*argv, prefix, "1"])
    message = str(err.value)
    assert prefix in message and f"did you mean {option}?" in message
