"""`crmroi users`: the operator's user management, for when nobody can log in to the web app."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.app import WorkspaceArg, app, console

if TYPE_CHECKING:  # the web app is imported inside the command, not at load
    from crmroi.web.auth import Accounts, Role


class Action(StrEnum):
    list = "list"
    add = "add"
    set_role = "set-role"
    reset_password = "reset-password"
    unlock = "unlock"
    disable = "disable"
    enable = "enable"


@app.command()
def users(
    workspace: WorkspaceArg,
    action: Annotated[Action, typer.Argument(help="What to do.")] = Action.list,
    name: Annotated[str | None, typer.Argument(help="The user name (all but list).")] = None,
    role: Annotated[
        str | None, typer.Option(help="admin, analyst or viewer (add, set-role).")
    ] = None,
    generate: Annotated[
        bool,
        typer.Option(
            "--generate", help="Make a random password and print it once (add, reset-password)."
        ),
    ] = False,
) -> None:
    """List, add, change the role of, reset the password of, unlock or disable web users.

    A new password is read from standard input when it is not a terminal (one line), asked
    for twice otherwise, or made up with --generate. A password reset, a role change and
    disabling end the user's sessions and API tokens.
    """
    from crmroi.errors import ConfigurationError
    from crmroi.web.access import WorkspaceAccess
    from crmroi.web.auth import Accounts, Role

    access = WorkspaceAccess(workspace, create=False)
    try:
        accounts = Accounts(access, secret="not used: no tokens are made here", session_hours=1)
        if action is Action.list:
            _print_users(accounts)
            return
        if not name:
            raise ConfigurationError(f"users {action.value}: give the user name")
        chosen = _role(role) if role is not None or action is Action.set_role else None
        if action is Action.add:
            password = _new_password(generate)
            user = accounts.create_user(name, password, chosen or Role.viewer)
            console.print(f"Added {escape(user.username)} ({user.role.value}).")
            _show_generated(generate, password)
            return
        found = accounts.find_user(name)
        if found is None:
            raise ConfigurationError(f"no user named {name!r}; `crmroi users WORKSPACE` lists them")
        user, _ = found
        if action in (Action.set_role, Action.disable):
            _keep_an_admin(accounts, user.user_id, chosen)
        if action is Action.set_role:
            assert chosen is not None
            accounts.set_role(user.user_id, chosen)
            console.print(f"{escape(user.username)} is now {chosen.value}; its sessions ended.")
        elif action is Action.reset_password:
            password = _new_password(generate)
            accounts.set_password(user.user_id, password)
            accounts.clear_failures(user.username)
            console.print(f"New password set for {escape(user.username)}; its sessions ended.")
            _show_generated(generate, password)
        elif action is Action.unlock:
            accounts.clear_failures(user.username)
            console.print(f"Failed logins of {escape(user.username)} forgotten.")
        else:
            accounts.set_disabled(user.user_id, action is Action.disable)
            console.print(f"{escape(user.username)} {action.value}d.")
    finally:
        access.close()


def _role(value: str | None) -> Role:
    from crmroi.errors import ConfigurationError
    from crmroi.web.auth import Role

    try:
        return Role(value or "")
    except ValueError:
        raise ConfigurationError("--role must be admin, analyst or viewer") from None


def _keep_an_admin(accounts: Accounts, user_id: str, new_role: Role | None) -> None:
    """Refuse to take the last enabled admin away (nobody could manage users any more)."""
    from crmroi.errors import ConfigurationError
    from crmroi.web.auth import Role

    if new_role is Role.admin:
        return
    admins = [u for u, off in accounts.users() if u.role is Role.admin and not off]
    if [u.user_id for u in admins] == [user_id]:
        raise ConfigurationError("this is the only enabled admin; make another admin first")


def _new_password(generate: bool) -> str:
    import secrets

    from crmroi.errors import ConfigurationError

    if generate:
        return secrets.token_urlsafe(15)
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise ConfigurationError("no password on standard input (or use --generate)")
        return line
    first = typer.prompt("New password", hide_input=True)
    if typer.prompt("Again", hide_input=True) != first:
        raise ConfigurationError("the two passwords differ")
    return str(first)


def _show_generated(generate: bool, password: str) -> None:
    if generate:
        console.print(f"Password (shown once): [bold]{escape(password)}[/]")


def _print_users(accounts: Accounts) -> None:
    table = Table(title="Users")
    for column in ("name", "role", "state"):
        table.add_column(column)
    for user, disabled in accounts.users():
        table.add_row(escape(user.username), user.role.value, "disabled" if disabled else "")
    console.print(table)
