"""Command-line options derived from the settings declarations: one argparse option per declared setting (its
type from the field's type, its help and default from the declaration), and the parser that reports a bad option
in one line."""

from __future__ import annotations

import argparse
import sys
import typing

from bayesprune.options import Option, base_type, declared, flag_of

EXIT_USAGE = 2


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad option in one line (exit 2) instead of usage + message."""

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see '{self.prog} --help')\n")
        sys.exit(EXIT_USAGE)


class LazyParser(Parser):
    """A command's parser whose options are added when it is first used: when it parses (its command was typed)
    or prints its help. ``bayesprune --help`` and the light commands then skip the imports that the declared
    settings of ``run`` and ``reproduce`` bring (JAX and BlackJAX, through the sampler modules)."""

    def __init__(self, *args, populate=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._populate = populate

    def populate(self) -> LazyParser:
        """Add the options now (once); returns the parser."""
        if self._populate is not None:
            add, self._populate = self._populate, None
            add(self)
        return self

    def parse_known_args(self, args=None, namespace=None):
        self.populate()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self.populate()
        return super().format_usage()

    def format_help(self) -> str:
        self.populate()
        return super().format_help()


def csv_list(kind):
    kinds = typing.get_args(kind) or (kind,)  # float | str: a number where it parses as one, else the word

    def one(text: str):
        for k in kinds:
            try:
                return k(text)
            except ValueError:
                continue
        raise ValueError(text)

    def parse(text: str):
        try:
            return tuple(one(t.strip()) for t in text.split(",") if t.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of "
                                             f"{' or '.join(k.__name__ for k in kinds)}") from None

    return parse


def parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer") from None


def parse_float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None


_PARSERS = {int: parse_int, float: parse_float, str: str}


def _show(value) -> str:
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _argument(group, name: str, hint, opt: Option, default, default_text: str | None = None) -> None:
    """Add the command-line option of a declared setting: its type from the field's type, its help and default
    from the declaration. Values are parsed here and checked by the settings (one check per setting)."""
    base = base_type(hint)
    flag = flag_of(name, opt)
    kw: dict = {"dest": name, "default": argparse.SUPPRESS}
    help_text = opt.help.replace("%", "%%")
    if base is bool:
        kw["action"] = argparse.BooleanOptionalAction if default is True else "store_true"
    elif typing.get_origin(base) is tuple:
        kw["type"] = csv_list(typing.get_args(base)[0])
        word = flag.lstrip("-").upper().replace("-", "_")
        kw["metavar"] = f"{word}[,{word}...]"
    else:
        kw["type"] = _PARSERS[base]
    if opt.choices is not None:
        kw["metavar"] = "{" + ",".join(str(c) for c in opt.choices if c is not None) + "}"
    if default_text is None and default is not None and base is not bool:
        default_text = _show(default)
    if default_text:
        help_text += f" (default {default_text})"
    group.add_argument(flag, help=help_text, **kw)


def add_declared_options(parser, cls) -> None:
    """Add one option per declared setting of ``cls`` (grouped by their declared group)."""
    hints = typing.get_type_hints(cls)
    groups: dict[str, argparse._ArgumentGroup] = {}
    for f, opt in declared(cls):
        if opt.flag is None:
            continue
        group = groups.get(opt.group)
        if group is None:
            group = groups[opt.group] = parser.add_argument_group(opt.group) if opt.group else parser
        _argument(group, f.name, hints[f.name], opt, f.default)


def add_sampler_options(parser) -> None:
    """One option per sampler setting, over every sampler; it applies to the chosen --sampler."""
    from bayesprune.samplers.registry import SETTINGS

    group = parser.add_argument_group("sampler settings (each applies to the samplers named in its help, to "
                                      "sampling and resampling)")
    seen: dict[str, tuple] = {}
    for sampler, cls in SETTINGS.items():
        hints = typing.get_type_hints(cls)
        for f, opt in declared(cls):
            entry = seen.setdefault(f.name, (hints[f.name], opt, f.default, []))
            entry[3].append(f"{sampler} {f.default}")
    for name, (hint, opt, default, defaults) in seen.items():
        _argument(group, name, hint, opt, default, ", ".join(defaults))
