"""`crmroi users`: the operator's user management, for when nobody can log in to the web app."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crmroi.cli.app import WorkspaceArg, app, console
from crmroi.cli.language import LangOption, Speaker, speaker
from crmroi.messages import M_, N_

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
    lang: LangOption = None,
) -> None:
    """List, add, change the role of, reset the password of, unlock or disable web users.

    A new password is read from standard input when it is not a terminal (one line), asked
    for twice otherwise, or made up with --generate. A password reset, a role change and
    disabling end the user's sessions and API tokens.
    """
    from crmroi.errors import ConfigurationError
    from crmroi.web.access import WorkspaceAccess
    from crmroi.web.auth import Accounts, Role

    say = speaker(lang)
    access = WorkspaceAccess(workspace, create=False)
    try:
        accounts = Accounts(access, secret="not used: no tokens are made here", session_hours=1)
        if action is Action.list:
            _print_users(accounts, say)
            return
        if not name:
            raise ConfigurationError(
                say.say(
                    M_("users_name", "users %(action)s: give the user name", action=action.value)
                )
            )
        chosen = _role(role, say) if role is not None or action is Action.set_role else None
        if action is Action.add:
            password = _new_password(generate, say)
            user = accounts.create_user(name, password, chosen or Role.viewer)
            added = M_("user_added", "Added %(user)s (%(role)s).", user=user.username,
                       role=say(user.role.value))  # fmt: skip
            console.print(escape(say.say(added)))
            _show_generated(generate, password, say)
            return
        found = accounts.find_user(name)
        if found is None:
            unknown = M_(
                "user_unknown",
                "no user named %(name)s; `crmroi users WORKSPACE` lists them",
                name=repr(name),
            )
            raise ConfigurationError(say.say(unknown))
        user, _ = found
        if action in (Action.set_role, Action.disable):
            _keep_an_admin(accounts, user.user_id, chosen, say)
        if action is Action.set_role:
            assert chosen is not None
            accounts.set_role(user.user_id, chosen)
            now = M_(
                "user_role_set",
                "%(user)s is now %(role)s; its sessions ended.",
                user=user.username,
                role=say(chosen.value),
            )
            console.print(escape(say.say(now)))
        elif action is Action.reset_password:
            password = _new_password(generate, say)
            accounts.set_password(user.user_id, password)
            accounts.clear_failures(user.username)
            reset = M_(
                "user_password_set",
                "New password set for %(user)s; its sessions ended.",
                user=user.username,
            )
            console.print(escape(say.say(reset)))
            _show_generated(generate, password, say)
        elif action is Action.unlock:
            accounts.clear_failures(user.username)
            forgotten = M_(
                "user_unlocked", "Failed logins of %(user)s forgotten.", user=user.username
            )
            console.print(escape(say.say(forgotten)))
        else:
            accounts.set_disabled(user.user_id, action is Action.disable)
            if action is Action.disable:
                done = M_("user_disabled", "%(user)s disabled.", user=user.username)
            else:
                done = M_("user_enabled", "%(user)s enabled.", user=user.username)
            console.print(escape(say.say(done)))
    finally:
        access.close()


def _role(value: str | None, say: Speaker) -> Role:
    from crmroi.errors import ConfigurationError
    from crmroi.web.auth import Role

    try:
        return Role(value or "")
    except ValueError:
        raise ConfigurationError(say(N_("--role must be admin, analyst or viewer"))) from None


def _keep_an_admin(accounts: Accounts, user_id: str, new_role: Role | None, say: Speaker) -> None:
    """Refuse to take the last enabled admin away (nobody could manage users any more)."""
    from crmroi.errors import ConfigurationError
    from crmroi.web.auth import Role

    if new_role is Role.admin:
        return
    admins = [u for u, off in accounts.users() if u.role is Role.admin and not off]
    if [u.user_id for u in admins] == [user_id]:
        last = N_("this is the only enabled admin; make another admin first")
        raise ConfigurationError(say(last))


def _new_password(generate: bool, say: Speaker) -> str:
    import secrets

    from crmroi.errors import ConfigurationError

    if generate:
        return secrets.token_urlsafe(15)
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            none = N_("no password on standard input (or use --generate)")
            raise ConfigurationError(say(none))
        return line
    first = typer.prompt(say(N_("New password")), hide_input=True)
    if typer.prompt(say(N_("Again")), hide_input=True) != first:
        raise ConfigurationError(say(N_("the two passwords differ")))
    return str(first)


def _show_generated(generate: bool, password: str, say: Speaker) -> None:
    if generate:
        shown = escape(say(N_("Password (shown once):")))
        console.print(f"{shown} [bold]{escape(password)}[/]")


def _print_users(accounts: Accounts, say: Speaker) -> None:
    table = Table(title=escape(say(N_("Users"))))
    for column in (N_("name"), N_("role"), N_("state")):
        table.add_column(escape(say(column)))
    for user, disabled in accounts.users():
        state = say(N_("disabled")) if disabled else ""
        table.add_row(escape(user.username), escape(say(user.role.value)), escape(state))
    console.print(table)
