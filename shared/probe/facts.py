"""The facts of `isphooks probe` about the login and the accounts (docs/interface.md §11).
CLI-only.

Each question is asked through isphooks' own client, on the read paths the actions take
(`whoami`, `list_accounts`, `complete`, `get_account`, `list_rows`), so that the capture
holds every answer a replayed `check`, `usage`, `status` or `reconcile` needs. Each fact is
judged from the raw answers (shared/probe/raw.py) and from what the client returned.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from shared.errors import IsphooksError, PanelMissing
from shared.panel import Account, Row, text
from shared.placement import complete
from shared.probe.capture import RecordingPanel
from shared.probe.raw import (
    Fact,
    fact,
    first_of,
    raw_doc,
    raw_flag,
    raw_number,
    raw_rows,
    raw_text,
)

ADMIN_LEVEL = 29
LEVEL_NAMES = {16: "user", 24: "reseller", 29: "panel administrator", 30: "server administrator"}


# -- whoami ------------------------------------------------------------------------------


def whoami(panel: RecordingPanel, start: int) -> dict[str, Fact]:
    """The login's level and how `whoami` shapes it. A refused login or an unreachable
    panel raises: nothing else can be asked then."""
    me = panel.whoami()
    doc = raw_doc(panel.recorder.since(start, "whoami")[-1])
    user = first_of(doc.get("user"))
    element = user if isinstance(user, dict) else {}
    if any(key.startswith("$") and key != "$" for key in element):
        shape: str | None = "attributes"
        name, level_text = raw_text(element.get("$name")), raw_text(element.get("$level"))
    elif "level" in doc or "name" in doc or "level" in element:
        shape = "fields"
        name = raw_text(doc.get("name")) or raw_text(element.get("name"))
        level_text = raw_text(doc.get("level")) or raw_text(element.get("level"))
    else:
        shape, name, level_text = None, raw_text(user), ""
    level = int(level_text) if level_text.strip().isdigit() else None
    login = panel.server.username
    if level is None:
        access = fact(
            None,
            True,
            f"whoami tells no readable access level ({me.seen}): admin "
            "rights (level 29 or above) are unconfirmed; check reports it unknown",
            me.level is None,
            f"level {me.level}",
        )
    else:
        rights = LEVEL_NAMES.get(level, "non-administrator" if level < ADMIN_LEVEL else "admin")
        ok = level >= ADMIN_LEVEL
        detail = f"login {login} has {rights} rights (level {level})" + (
            "" if ok else "; isphooks needs an administrator login (level 29 or above)"
        )
        access = fact(level, ok, detail, me.level == level, f"level {me.level}")
    words = {
        "attributes": "the login as a user element with attributes ($name, $level)",
        "fields": "the login as plain name and level fields",
        None: "neither a user element with attributes nor name and level fields",
    }
    shape_fact = fact(
        shape, True, f"whoami answers {words[shape]}", me.name == name, f"the name {me.name!r}"
    )
    return {"access_level": access, "whoami_shape": shape_fact}


# -- templates and account lists ---------------------------------------------------------


def templates(panel: RecordingPanel, start: int) -> tuple[Fact, list[str]]:
    try:
        rows = panel.list_rows("preset")
    except IsphooksError as exc:
        return Fact(
            None,
            False,
            f"the templates cannot be read ({exc.message}): check "
            "fails and create and upgrade cannot read a plan",
        ), []
    names = [text(row.get("name")) for row in rows]
    raw = [raw_text(row.get("name")) for row in raw_rows(panel.recorder.since(start, "preset"))]
    shown = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
    return fact(
        len(names),
        True,
        f"{len(names)} template(s): {shown or 'none'}",
        sorted(set(names)) == sorted(set(raw)),
        f"{len(names)} templates",
    ), names


class Lists(NamedTuple):
    rows: dict[str, list[Row]]  # kind → its rows as the client read them
    problems: list[str]  # lists that could not be read to their end (or at all)
    missing: list[str]  # functions the panel lacks


def account_lists(panel: RecordingPanel, start: int) -> tuple[Lists, dict[str, Fact]]:
    server = panel.server
    lists = Lists({}, [], [])
    for kind in ("user", "reseller") if server.has_resellers else ("user",):
        try:
            lists.rows[kind] = panel.list_accounts(kind)
        except PanelMissing:
            lists.missing.append(kind)
        except IsphooksError as exc:
            lists.problems.append(exc.message)
    if server.edition == "business":
        try:
            panel.list_rows("ipaddr")
        except PanelMissing:
            lists.missing.append("ipaddr")
        except IsphooksError as exc:
            lists.problems.append(exc.message)
    missing = ", ".join(lists.missing)
    edition = fact(
        not lists.missing,
        not lists.missing,
        f"the config says {server.edition}, but the panel has no {missing} function"
        if missing
        else f"the panel has the functions of {server.edition} isphooks calls",
    )
    return lists, {"list_page_size": _paging(panel, start, lists), "edition_matches": edition}


def _paging(panel: RecordingPanel, start: int, lists: Lists) -> Fact:
    if lists.problems or "user" not in lists.rows:
        why = "; ".join(lists.problems) or "the panel has no user function"
        return Fact(None, False, f"a list cannot be read (to its end): {why}")
    pages = panel.recorder.since(start, "user")
    first = raw_doc(pages[0])
    per_page, number, total = (raw_number(first, f) for f in ("p_cnt", "p_num", "p_elems"))
    read = len(lists.rows["user"])
    raw = len(raw_rows(pages))
    if not per_page:
        detail = "lists answer without paging fields: one answer holds a whole list"
    else:
        detail = (
            f"lists page: p_cnt {per_page}, p_num {number}, p_elems "
            f"{'not given' if total is None else total}; the user list's {read} rows "
            f"were read to the end in {len(pages)} page(s)"
        )
    expected = raw if total is None else total
    return fact(
        per_page or None,
        True,
        detail,
        read == expected == raw,
        f"{read} rows of the {expected} the pages hold",
    )


def accounts(panel: RecordingPanel, start: int, lists: Lists) -> dict[str, Fact]:
    """Where the panel shows an account's state, owner, limits, comment and template,
    judged on the first account (the one `check` judges on) and, for the state, on an
    active one (a form that shows a flag only when set shows nothing for a suspended one);
    then every account completed as `usage` and `reconcile` complete them."""
    users = lists.rows.get("user", [])
    if not users:
        return _unjudged(
            True,
            "the server holds no account yet: this can only be judged once "
            "it does; run the probe again then",
        )
    first = users[0]
    judged = next((row for row in users if row.get("active") == "on"), first)
    pages = panel.recorder.since(start, "user")
    raw_row = next(
        (r for r in raw_rows(pages) if raw_text(r.get("name")) == judged.get("name")), {}
    )
    raw_first = next(
        (r for r in raw_rows(pages) if raw_text(r.get("name")) == first.get("name")), {}
    )
    try:
        if judged is not first:  # check's account too, so a replayed check finds its form
            panel.get_account(first.get("name"))
        account = panel.get_account(judged.get("name"))
    except IsphooksError as exc:
        return _unjudged(False, f"an account's form cannot be read: {exc.message}")
    forms = panel.recorder.since(start, "user.edit", elid=judged.get("name"))
    if account is None or not forms:
        return _unjudged(
            False, f"account {judged.get('name')} is in the list but its form says it is not there"
        )
    form = raw_doc(forms[0])
    facts = {
        "state_shown_in": _state(form, raw_row, account, judged),
        "owner_shown_in": _owner(panel, form, raw_row, account),
        **_columns(form, raw_first, first, account),
    }
    try:
        complete(panel, [row for kind in ("user", "reseller") for row in lists.rows.get(kind, [])])
    except IsphooksError as exc:
        facts["list_has_comment"] = Fact(
            facts["list_has_comment"].value,
            False,
            f"reading each account's form failed: {exc.message}",
        )
    return facts


def _unjudged(ok: bool, why: str) -> dict[str, Fact]:
    return {
        name: Fact(None, ok, why)
        for name in (
            "state_shown_in",
            "owner_shown_in",
            "edit_form_limits",
            "list_has_comment",
            "list_has_preset",
        )
    }


def _state(form: dict[str, Any], row: dict[str, Any], account: Account, judged: Row) -> Fact:
    if "active" in form:
        where, shown = "form", raw_flag(form["active"])
        detail = "the user form shows the state (active): no extra read"
    elif "active" in row:
        where, shown = "list", raw_flag(row["active"])
        detail = (
            "only the account list shows the state: an action reads the account's list "
            "row too (one more read)"
        )
    else:
        where, shown = None, None
        detail = (
            "neither the user form nor the list shows an account's state: suspend and "
            "unsuspend always make their call, usage and reconcile report it unknown"
        )
    if where != "form" and judged.get("active") != "on":
        detail += (
            " (judged on a suspended account: a form that shows the flag only when it "
            "is set would look the same)"
        )
    return fact(where, True, detail, account.active == shown, f"active={account.active}")


def _owner(
    panel: RecordingPanel, form: dict[str, Any], row: dict[str, Any], account: Account
) -> Fact:
    server = panel.server
    in_form, in_row = raw_text(form.get("owner")), raw_text(row.get("owner"))
    where = "form" if in_form else "list" if in_row else None
    # as the rest of isphooks takes it: on lite and pro an owner shown nowhere is the login
    default = None if server.has_resellers else server.username
    shown = in_form or in_row or default
    client = account.owner or default
    ok = where is not None or not server.has_resellers
    detail = {
        "form": "the user form shows the owner: no extra read",
        "list": (
            "only the account list shows the owner: on host and business an action reads "
            "the account's list row too (one more read)"
        ),
        None: (
            f"the panel shows no account's owner, neither in the user form nor in the user "
            f"list: on {server.edition}, which has resellers, isphooks cannot tell its "
            "accounts from a reseller's, so it refuses every account action on this server"
            if server.has_resellers
            else f"the panel shows no owner; {server.edition} has no resellers, so every account "
            "counts as the configured login's"
        ),
    }[where]
    return fact(where, ok, detail, client == shown, f"owner {client!r}")


def _columns(
    form: dict[str, Any], row: dict[str, Any], first: Row, account: Account
) -> dict[str, Fact]:
    limits = {key for key in form if key.startswith("limit_")}
    with_limits = fact(
        bool(limits),
        True,
        (
            f"the user form carries {len(limits)} limit_* fields: status reports them and upgrade "
            "names what differs"
            if limits
            else "the user form carries no limit_* field: status reports every limit null and "
            "upgrade every limit as changed"
        ),
        set(account.limits) == limits,
        f"{len(account.limits)} limits",
    )
    comment = fact(
        "comment" in row,
        True,
        (
            "the account lists show each account's comment"
            if "comment" in row
            else "the account lists leave the comment out: usage, reconcile and placement read "
            "each account's form (one more read per account)"
        ),
        ("comment" in row) == ("comment" in first.columns),
        "the comment otherwise",
    )
    preset = fact(
        "preset" in row,
        True,
        (
            "the account lists show each account's template"
            if "preset" in row
            else "the account lists leave the template out: usage reports template null unless it "
            "read the form anyway"
        ),
        ("preset" in row) == ("preset" in first.columns),
        "the template otherwise",
    )
    return {"edit_form_limits": with_limits, "list_has_comment": comment, "list_has_preset": preset}
