"""Environment variables for command-line flags: ``--sync-duration`` reads
``CODAT_MOCK_SYNC_DURATION`` when the flag itself is not given.

The mapping is derived from the parser's own actions, so a flag added to ``serve`` gets its
variable (and the note in ``--help``) without anything written for it here. A value goes
through the flag's own ``type`` and ``choices`` and is applied by the flag's own action, so it
means exactly what the flag would. How a value is written:

* a flag without a value (``--strict``): ``1``/``true``/``yes``/``on`` or ``0``/``false``/
  ``no``/``off``;
* a repeatable flag (``--fault``) or one taking several values: the values separated by
  spaces, quoted as in a shell where a value holds a space;
* any other flag: the value as it would follow the flag.

An empty variable counts as unset.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

PREFIX = "CODAT_MOCK_"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class EnvError(ValueError):
    """An environment variable holds a value its flag would refuse."""


def variable_for(action: argparse.Action, prefix: str = PREFIX) -> str | None:
    """The variable behind an optional flag (``--log-level`` -> ``CODAT_MOCK_LOG_LEVEL``);
    ``None`` for positionals, ``--help`` and ``--version``."""
    if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
        return None
    longs = [option for option in action.option_strings if option.startswith("--")]
    if not longs:
        return None
    return prefix + longs[0][2:].replace("-", "_").upper()


def _env_actions(
    parser: argparse.ArgumentParser, prefix: str
) -> Iterable[tuple[argparse.Action, str]]:
    for action in parser._actions:
        variable = variable_for(action, prefix)
        if variable is not None:
            yield action, variable


def document(parser: argparse.ArgumentParser, prefix: str = PREFIX) -> None:
    """Name each flag's variable in its ``--help`` line, and say the flag wins."""
    for action, variable in _env_actions(parser, prefix):
        if action.help is not argparse.SUPPRESS:
            spaced = ", space-separated" if _takes_several(action) else ""
            action.help = f"{action.help or ''} [env {variable}{spaced}]".lstrip()
    note = f"Every flag can also be set by its environment variable ({prefix}...); a flag given "
    note += "on the command line wins over its variable."
    parser.epilog = f"{parser.epilog}\n\n{note}" if parser.epilog else note


def _takes_several(action: argparse.Action) -> bool:
    """Whether the flag repeats or takes a list (its variable then holds several values)."""
    return (
        isinstance(action, argparse._AppendAction)
        or action.nargs in ("*", "+")
        or isinstance(action.nargs, int)
    ) and action.nargs != 0


def _given(parser: argparse.ArgumentParser, argv: Sequence[str]) -> set[str]:
    """The dests of the flags that appear in ``argv`` (``--port 1`` and ``--port=1`` alike)."""
    by_option = {
        option: action.dest for action in parser._actions for option in action.option_strings
    }
    given: set[str] = set()
    for token in argv:
        if token == "--":
            break
        if token.startswith("-"):
            dest = by_option.get(token.split("=", 1)[0])
            if dest is not None:
                given.add(dest)
    return given


def _convert(
    parser: argparse.ArgumentParser, action: argparse.Action, variable: str, raw: str
) -> Any:
    convert = parser._registry_get("type", action.type, action.type)
    if not callable(convert):
        convert = str
    try:
        value = convert(raw)
    except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
        reason = str(exc) if isinstance(exc, argparse.ArgumentTypeError) else ""
        name = getattr(action.type, "__name__", "value")
        raise EnvError(f"{variable}={raw!r}: " + (reason or f"not a valid {name}")) from None
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise EnvError(f"{variable}={raw!r}: choose from {choices}")
    return value


def apply(
    parser: argparse.ArgumentParser,
    namespace: argparse.Namespace,
    argv: Sequence[str],
    environ: Mapping[str, str],
    prefix: str = PREFIX,
) -> None:
    """Set on ``namespace`` each flag that ``argv`` leaves out and the environment gives.

    ``parser`` is the (sub)parser that read ``argv``. Raises :class:`EnvError`, naming the
    variable, for a value the flag would refuse.
    """
    given = _given(parser, argv)
    for action, variable in _env_actions(parser, prefix):
        raw = environ.get(variable)
        # An empty variable counts as unset, as container and CI settings often leave them.
        if not raw or action.dest in given:
            continue
        option = action.option_strings[-1]
        if action.nargs == 0:  # --strict and the like: a switch
            word = raw.strip().lower()
            if word not in _TRUE | _FALSE:
                raise EnvError(f"{variable}={raw!r}: use 1/true/yes/on or 0/false/no/off")
            if word in _TRUE:
                action(parser, namespace, [], option)
            continue
        several = (
            isinstance(action, argparse._AppendAction)
            or action.nargs in ("*", "+")
            or (isinstance(action.nargs, int))
        )
        if not several:
            action(parser, namespace, _convert(parser, action, variable, raw), option)
            continue
        try:
            words = shlex.split(raw)
        except ValueError as exc:
            raise EnvError(f"{variable}={raw!r}: {exc}") from None
        values = [_convert(parser, action, variable, word) for word in words]
        if isinstance(action, argparse._AppendAction) and action.nargs in (None, "?"):
            for value in values:
                action(parser, namespace, value, option)
        else:
            action(parser, namespace, values, option)
