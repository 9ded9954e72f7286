"""One-line errors for click commands: usage errors and InputError become one line on stderr, exit 2.

``OneLineGroup`` is the CLI's group; ``OneLineCommand`` a command that is also run on its own (tests,
``python -m``). New subcommands added with ``main.add_command`` inherit the behaviour through the group.
"""

from __future__ import annotations

import sys

import click

from ..model.errors import InputError

__all__ = ["OneLineCommand", "OneLineGroup", "one_line"]


def one_line(exc: click.ClickException) -> str:
    """A click usage error as one line, naming the command whose --help lists the allowed values."""
    msg = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        msg += f" (see {ctx.command_path} --help)"
    return msg


class _OneLine:
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            click.echo(f"lindiff-verify: error: {exc}", err=True)
            sys.exit(2)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            no_args = getattr(click.exceptions, "NoArgsIsHelpError", ())
            if no_args and isinstance(exc, no_args):  # bare ``lindiff-verify``: the help, as usual
                click.echo(exc.ctx.get_help(), err=True)
                sys.exit(exc.exit_code)
            click.echo(f"lindiff-verify: error: {one_line(exc)}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("lindiff-verify: aborted", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)


class OneLineGroup(_OneLine, click.Group):
    """A click group whose errors are one line (InputError and usage errors: exit 2)."""


class OneLineCommand(_OneLine, click.Command):
    """A click command whose errors are one line (InputError and usage errors: exit 2)."""
