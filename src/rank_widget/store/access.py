"""Access control on PostgreSQL: one database role per person, enforced by the database (docs/security.md).

``rank_widget.team.setup(admin_url, annotators=[...], leads=[...], adjudicators=[...])`` runs the SQL built
here (``setup_statements``). After it, on that database:

- every person logs in as their own role; the annotator of a label is the database's ``session_user``;
- ``labels`` is INSERT-only for everyone (no UPDATE/DELETE grant), and row-level security lets an annotator
  insert only labels in their own name (never ``source='adjudication'``) and read only their own labels,
  ``latest`` rows and leases; adjudicators and leads read everything; adjudication labels need the
  adjudicator or lead role; re-queue (``queue_items``) and dataset registration need the lead (re-queue: or
  adjudicator) role;
- the derived tables (``latest``, the team counts and assignments) are written by a trigger on ``labels``
  (SECURITY DEFINER), so no annotator holds a write grant on them;
- claim / renew / release are SECURITY DEFINER functions keyed on ``session_user``, with a per-call cap
  (``max_claim``) and a cap on the active leases one person may hold in a dataset (``max_held``).

A ``meta`` row (``access_control``) marks a store set up this way; ``detect`` reads it (and the connected
role's memberships) once when the store is opened, and the store then takes the function / trigger paths.
SQLite has no roles: a SQLite file is one person's store (``warn_if_shared`` warns on a hub).
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rank_widget.store.engine import StoreError

GROUP_ANNOTATOR = "rw_annotator"
GROUP_ADJUDICATOR = "rw_adjudicator"
GROUP_LEAD = "rw_lead"
GROUPS = (GROUP_ANNOTATOR, GROUP_ADJUDICATOR, GROUP_LEAD)
MARKER = "access_control"  # meta key
DEFAULT_MAX_CLAIM = 10  # items per claim call: the widget's batch (rank_widget.team.TEAM_BATCH)
DEFAULT_MAX_HELD = 20  # active leases one person may hold in one dataset
MAX_LEASE_SECONDS = 86_400.0
COUNTED = ("widget", "import", "simulation")  # assign.COUNTED_SOURCES: sources that fill an overlap slot
ROLE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@\-]{0,62}$")
SECURITY_DOC = "docs/security.md"


class AccessDenied(StoreError, PermissionError):
    """The store's access control refused an action (the database's, or the store's own check before it)."""


@dataclass(frozen=True)
class Access:
    """What the connected role may do, read once when the store is opened."""

    on: bool = False  # the database was set up with team.setup
    identity: str | None = None  # session_user when on
    lead: bool = False
    adjudicator: bool = False
    admin: bool = False  # superuser, BYPASSRLS or the tables' owner: the database enforces nothing on it
    max_claim: int = DEFAULT_MAX_CLAIM

    @property
    def functions(self) -> bool:
        """Claims, renewals and releases go through the SECURITY DEFINER functions (all but the admin)."""
        return self.on and not self.admin

    def check_label(self, label: Mapping[str, Any], where: str) -> None:
        """Refuse, before the database does, a label this role may not store (the policies say the same)."""
        if not self.on or self.admin:
            return
        ann, source = label["annotator"], label["source"]
        if source == "adjudication" and not (self.adjudicator or self.lead):
            raise AccessDenied(
                f"{where}: {self.identity!r} may not store adjudications (source='adjudication'): that needs "
                f"the adjudicator or lead role; ask your lead ({SECURITY_DOC})"
            )
        if ann != self.identity and not (self.lead and source in ("import", "simulation", "judge")):
            raise AccessDenied(
                f"{where}: label {label['label_id']!r} names annotator {ann!r}, but you are connected as "
                f"{self.identity!r}; on this store a label's annotator is the database role that stores it "
                f"(drop annotator=, or connect with that person's own credentials; {SECURITY_DOC})"
            )

    def check_self(self, annotator: str, what: str, where: str) -> None:
        """Refuse acting on another person's labels or leases (the functions act on session_user only)."""
        if self.on and not self.admin and annotator != self.identity:
            raise AccessDenied(
                f"{where}: cannot {what} for {annotator!r}: you are connected as {self.identity!r}, and on "
                f"this store each person acts only as themselves ({SECURITY_DOC})"
            )

    def check_read(self, annotator: str | None, where: str) -> None:
        """An annotator reads only their own labels: asking for someone else's is an error, not an empty
        frame (the database would return no rows)."""
        if (
            self.on
            and not (self.admin or self.lead or self.adjudicator)
            and annotator not in (None, self.identity)
        ):
            raise AccessDenied(
                f"{where}: {self.identity!r} may read only their own labels, not {annotator!r}'s "
                f"(row-level security; a lead or adjudicator reads all; {SECURITY_DOC})"
            )


OFF = Access()


def _member(group: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
        f"JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = '{group}' AND u.rolname = session_user)"
    )


_DETECT = (
    "SELECT session_user, (SELECT value FROM meta WHERE key = %s), "
    "coalesce((SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = session_user), false) "
    "OR coalesce((SELECT pg_has_role(session_user, c.relowner, 'MEMBER') FROM pg_class c "
    "WHERE c.oid = to_regclass('labels')), false), "
    f"{_member(GROUP_LEAD)}, {_member(GROUP_ADJUDICATOR)}"
)


def detect(cur: Any) -> Access:
    """Read the marker and the connected role's memberships (PostgreSQL; one query)."""
    cur.execute(_DETECT, (MARKER,))
    user, marker, admin, lead, adjudicator = cur.fetchone()
    if marker is None:
        return OFF
    try:
        conf = json.loads(marker)
        max_claim = int(conf.get("max_claim", DEFAULT_MAX_CLAIM))
    except (ValueError, TypeError, AttributeError):
        max_claim = DEFAULT_MAX_CLAIM
    return Access(True, str(user), bool(lead), bool(adjudicator), bool(admin), max_claim)


def denied_message(url: str, access: Access, msg: str) -> str:
    """The text of an AccessDenied raised for a database refusal (SQLSTATE 42501)."""
    who = f" as {access.identity!r}" if access.identity else ""
    return (
        f"{url}: refused by the database's access control{who}: {msg.strip()}. Each person may only write "
        f"their own labels and leases; adjudication, re-queue and registration need a lead or adjudicator "
        f"role ({SECURITY_DOC})"
    )


# -- setup ---------------------------------------------------------------------------------------------------


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def check_people(
    annotators: Iterable[str], leads: Iterable[str], adjudicators: Iterable[str]
) -> dict[str, list[str]]:
    """person -> the group roles they join; refuses names that are not safe role names."""
    out: dict[str, list[str]] = {}
    for kind, group, names in (
        ("annotators", GROUP_ANNOTATOR, annotators),
        ("leads", GROUP_LEAD, leads),
        ("adjudicators", GROUP_ADJUDICATOR, adjudicators),
    ):
        listed = [names] if isinstance(names, str) else list(names)
        for i, name in enumerate(listed):
            if not isinstance(name, str) or not ROLE_NAME.match(name):
                raise ValueError(
                    f"{kind}[{i}]: {name!r} is not a usable role name: use 1-63 letters, digits, '_', '.', "
                    f"'@' or '-', starting with a letter, digit or '_' (e.g. the JupyterHub user name)"
                )
            if name.startswith("pg_") or name in GROUPS:
                raise ValueError(f"{kind}[{i}]: {name!r} is reserved; choose another role name")
            out.setdefault(name, [])
            if group not in out[name]:
                out[name].append(group)
    if not out:
        raise ValueError(
            "setup needs at least one person: annotators=[...], leads=[...] or adjudicators=[...]"
        )
    return out


def _role(name: str, login: bool) -> str:
    kind = "LOGIN" if login else "NOLOGIN"
    return (
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {literal(name)}) THEN "
        f"CREATE ROLE {ident(name)} {kind}; END IF; END $$"
    )


def _policy(name: str, table: str, command: str, roles: Sequence[str], clause: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS {name} ON {table}",
        f"CREATE POLICY {name} ON {table} FOR {command} TO {', '.join(roles)} {clause}",
    ]


_HOLDS = (
    "EXISTS (SELECT 1 FROM assignments a WHERE a.dataset = t.dataset AND a.item_id = t.item_id "
    "AND a.annotator = p_who AND (a.state IN ('done', 'skipped') "
    "OR (a.state = 'leased' AND a.expires_at > p_now)))"
)
_ACTIVE = (
    "(SELECT count(*) FROM assignments a WHERE a.dataset = t.dataset AND a.item_id = t.item_id "
    "AND a.state = 'leased' AND a.expires_at > p_now)"
)
_CANDIDATE = (
    "SELECT t.item_id INTO v_item FROM team_items t WHERE t.dataset = p_dataset AND t.gold = p_gold "
    f"AND t.item_id <> ALL (v_skip) AND NOT {_HOLDS} "
    "AND NOT EXISTS (SELECT 1 FROM latest l WHERE l.item_id = t.item_id AND l.annotator = p_who) "
    f"AND (t.gold = 1 OR t.done + {_ACTIVE} < p_overlap) "
    "ORDER BY {order} LIMIT 1 FOR UPDATE OF t SKIP LOCKED;"
)


# Regular items: a lead's priorities first (assign.set_priorities), then fewest labels, then registration.
CLAIM_ORDER = "t.priority DESC, t.done, t.seq"

QUALIFICATION_TABLES = (
    "qualifications",
    "qualification_items",
    "qualification_attempts",
    "qualification_results",
    "qualification_events",
    "dataset_qualifications",
)


# -- qualification (issue 11): gold hidden until labelled, passes scored by the database --------------------
# An annotator or adjudicator reads a qualification item's answer (gold, gold_ratings, explanation) only
# through rw_qualification_answers, for items they have labelled in an attempt of theirs, and never the
# content digest (a hash of the answers). A pass is recorded only by rw_finish_qualification, which scores
# the caller's own first label per item against the gold with the rules of rank_widget/qualification.py
# (rw_qual_score, rw_tau_b) and the version's pass mark. docs/security.md, docs/qualification.md.

QUALIFICATION_PUBLIC_COLUMNS = {
    "qualifications": ("name", "version", "pass_mark", "max_attempts", "cooldown_s", "scoring", "created_at"),
    "qualification_items": ("name", "version", "item_id", "seq", "content"),
}
ATTEMPT_INSERT_COLUMNS = ("attempt_id", "name", "version", "annotator", "attempt", "start_seq", "started_at")

_TAU_B = """CREATE OR REPLACE FUNCTION rw_tau_b(p_gold jsonb, p_given jsonb) RETURNS double precision
  LANGUAGE plpgsql IMMUTABLE SET search_path = {path}, pg_temp AS $fn$
-- Kendall's tau-b of two tie-group rankings of the same responses, as scipy.stats.kendalltau computes it
-- ((concordant - discordant) / sqrt(pairs untied in gold) / sqrt(pairs untied in given)); NULL where
-- rank_widget.qualification.kendall_tau_b gives NaN (other responses, or one side ties them all).
DECLARE v_g integer[]; v_l integer[]; v_n integer; v_num double precision := 0; v_tx double precision := 0;
  v_ty double precision := 0; i integer; j integer; dx integer; dy integer;
BEGIN
  IF jsonb_typeof(p_gold) IS DISTINCT FROM 'array' OR jsonb_typeof(p_given) IS DISTINCT FROM 'array'
    OR jsonb_array_length(p_gold) < 2 OR jsonb_array_length(p_given) < 2 THEN
    RETURN NULL;
  END IF;
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_given) e WHERE jsonb_typeof(e) <> 'array') THEN
    RETURN NULL;
  END IF;
  WITH g AS (SELECT r AS rid, n AS rk FROM jsonb_array_elements(p_gold) WITH ORDINALITY grp(e, n),
             jsonb_array_elements_text(grp.e) r),
       l AS (SELECT r AS rid, n AS rk FROM jsonb_array_elements(p_given) WITH ORDINALITY grp(e, n),
             jsonb_array_elements_text(grp.e) r)
  SELECT CASE WHEN (SELECT count(*) FROM l) = (SELECT count(DISTINCT rid) FROM l)
      AND (SELECT array_agg(DISTINCT rid ORDER BY rid) FROM g)
        = (SELECT array_agg(DISTINCT rid ORDER BY rid) FROM l)
      THEN 1 ELSE 0 END,
    (SELECT array_agg(g.rk::integer ORDER BY g.rid) FROM g),
    (SELECT array_agg(l.rk::integer ORDER BY l.rid) FROM l)
    INTO v_n, v_g, v_l;
  IF v_n = 0 THEN RETURN NULL; END IF;
  v_n := array_length(v_g, 1);
  FOR i IN 1 .. v_n - 1 LOOP
    FOR j IN i + 1 .. v_n LOOP
      dx := sign(v_g[i] - v_g[j]); dy := sign(v_l[i] - v_l[j]);
      v_num := v_num + dx * dy;
      v_tx := v_tx + abs(dx); v_ty := v_ty + abs(dy);
    END LOOP;
  END LOOP;
  IF v_tx = 0 OR v_ty = 0 THEN RETURN NULL; END IF;
  RETURN v_num / sqrt(v_tx) / sqrt(v_ty);
END $fn$"""

_SCORE = """CREATE OR REPLACE FUNCTION rw_qual_score(p_gold jsonb, p_gold_ratings jsonb, p_rules jsonb,
  p_status text, p_winner text, p_strength integer, p_ranking jsonb, p_ratings jsonb) RETURNS jsonb
  LANGUAGE plpgsql IMMUTABLE SET search_path = {path}, pg_temp AS $fn$
-- One item against one label: rank_widget.qualification.score_item, rule for rule.
DECLARE v_checks jsonb := '{{}}'; v_crits text[]; v_crit text; v_want text; v_gs integer; v_ok boolean;
  v_tau double precision; v_answered boolean := p_status = 'submitted'; v_strength_rule text;
BEGIN
  v_strength_rule := p_rules->>'strength';
  SELECT coalesce(array_agg(DISTINCT c ORDER BY c), '{{}}') INTO v_crits
    FROM jsonb_each(coalesce(p_gold_ratings, '{{}}')) g(rid, per), jsonb_object_keys(g.per) c
    WHERE jsonb_typeof(coalesce(p_gold_ratings, '{{}}')) = 'object';
  IF p_gold ? 'winner' THEN
    v_want := p_gold->>'winner';
    v_gs := CASE WHEN jsonb_typeof(p_gold->'strength') = 'number' THEN (p_gold->>'strength')::integer END;
    IF v_answered THEN
      IF v_want = '{tie}' THEN
        v_ok := p_winner = '{tie}' OR (p_rules->>'tie' = 'weak_ok' AND p_winner IS NOT NULL
          AND p_strength = 1);
      ELSE
        v_ok := p_winner = v_want;
      END IF;
      v_checks := jsonb_build_object('winner', coalesce(v_ok, false));
    ELSE
      v_checks := jsonb_build_object('winner', false);
    END IF;
    IF v_want <> '{tie}' AND v_gs IS NOT NULL AND v_strength_rule <> 'direction' THEN
      v_ok := v_answered AND p_winner = v_want AND p_strength IS NOT NULL
        AND abs(p_strength - v_gs) <= CASE WHEN v_strength_rule = 'within_1' THEN 1 ELSE 0 END;
      v_checks := v_checks || jsonb_build_object('strength', coalesce(v_ok, false));
    END IF;
  ELSE
    IF v_answered THEN
      v_tau := rw_tau_b(p_gold->'ranking', coalesce(p_ranking, '[]'));
      v_ok := (jsonb_array_length(p_gold->'ranking') = 1 AND jsonb_typeof(p_ranking) = 'array'
          AND jsonb_array_length(p_ranking) = 1)
        OR (v_tau IS NOT NULL AND v_tau >= (p_rules->>'tau_threshold')::double precision);
    ELSE
      v_ok := false;
    END IF;
    v_checks := jsonb_build_object('ranking', v_ok);
  END IF;
  FOREACH v_crit IN ARRAY v_crits LOOP
    v_ok := v_answered AND NOT EXISTS (
      SELECT 1 FROM jsonb_each(p_gold_ratings) g(rid, per) WHERE g.per ? v_crit AND (
        jsonb_typeof(p_ratings->g.rid->v_crit) IS DISTINCT FROM 'number'
        OR abs(trunc((p_ratings->g.rid->>v_crit)::numeric) - (g.per->>v_crit)::numeric)
          > (p_rules->>'rating_tolerance')::numeric));
    v_checks := v_checks || jsonb_build_object('rating:' || v_crit, v_ok);
  END LOOP;
  RETURN jsonb_build_object('checks', v_checks, 'answered', v_answered,
    'matched', v_answered AND NOT EXISTS (SELECT 1 FROM jsonb_each(v_checks) c WHERE c.value = 'false'))
    || CASE WHEN p_gold ? 'ranking' AND v_answered THEN jsonb_build_object('tau', v_tau) ELSE '{{}}' END;
END $fn$"""

_ANSWERS = """CREATE OR REPLACE FUNCTION rw_qualification_answers(p_name text, p_version integer)
  RETURNS TABLE (item_id text, gold text, gold_ratings text, explanation text) {definer} AS $fn$
-- The answers of the items session_user has labelled in an attempt of theirs at (p_name, p_version).
BEGIN
  RETURN QUERY SELECT q.item_id, q.gold, q.gold_ratings, q.explanation FROM qualification_items q
    WHERE q.name = p_name AND q.version = p_version AND EXISTS (
      SELECT 1 FROM qualification_attempts a JOIN labels l ON l.annotator = a.annotator
        AND l.item_id = q.item_id AND l.seq > a.start_seq
      WHERE a.name = p_name AND a.version = p_version AND a.annotator = session_user)
    ORDER BY q.seq;
END $fn$"""

_FINISH = """CREATE OR REPLACE FUNCTION rw_finish_qualification(p_attempt text) RETURNS jsonb
  {definer} AS $fn$
-- Score session_user's open attempt from their own first label per item, store the results and record
-- passed or failed: the only way an annotator's pass is recorded on this store.
DECLARE v_who text := session_user; v_now double precision := extract(epoch FROM clock_timestamp());
  a record; v_pass double precision; v_max integer; v_cool double precision; v_rules jsonb; v_used bigint;
  v_last double precision; v_items jsonb := '[]'; v_one jsonb; v_n integer := 0; v_hit integer := 0;
  v_score double precision; v_passed boolean; v_breakdown jsonb; q record; l record;
BEGIN
  SELECT * INTO a FROM qualification_attempts WHERE attempt_id = p_attempt FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no qualification attempt %', quote_literal(p_attempt) USING ERRCODE = 'P0002';
  END IF;
  IF a.annotator <> v_who THEN
    RAISE EXCEPTION '% may not finish %''s qualification attempt', v_who, a.annotator USING ERRCODE = '42501';
  END IF;
  IF a.finished_at IS NOT NULL THEN RETURN NULL; END IF;
  SELECT pass_mark, max_attempts, cooldown_s, scoring::jsonb INTO v_pass, v_max, v_cool, v_rules
    FROM qualifications WHERE name = a.name AND version = a.version;
  SELECT count(*), max(e.at) INTO v_used, v_last FROM qualification_events e
    WHERE e.name = a.name AND (e.annotator = v_who OR e.annotator IS NULL) AND e.event = 'failed'
    AND e.seq > coalesce((SELECT max(r.seq) FROM qualification_events r WHERE r.name = a.name
      AND (r.annotator = v_who OR r.annotator IS NULL)
      AND r.event IN ('requalify', 'revoked', 'reset', 'granted')), 0);
  IF v_used >= v_max THEN
    RAISE EXCEPTION '% has used all % attempts at qualification %; a lead may reset them', v_who, v_max,
      quote_literal(a.name) USING ERRCODE = '42501';
  END IF;
  IF v_last IS NOT NULL AND (a.started_at < v_last + v_cool OR v_now < v_last + v_cool) THEN
    RAISE EXCEPTION 'qualification %: an attempt may not start or finish in the cool-down after a failed one',
      quote_literal(a.name) USING ERRCODE = '42501';
  END IF;
  FOR q IN SELECT * FROM qualification_items WHERE name = a.name AND version = a.version ORDER BY seq LOOP
    SELECT lb.label_id, lb.status, lb.winner, lb.strength, lb.ranking, lb.ratings INTO l FROM labels lb
      WHERE lb.annotator = v_who AND lb.item_id = q.item_id AND lb.seq > a.start_seq ORDER BY lb.seq LIMIT 1;
    IF FOUND THEN
      v_one := rw_qual_score(q.gold::jsonb, q.gold_ratings::jsonb, v_rules, l.status, l.winner,
        l.strength::integer, l.ranking::jsonb, l.ratings::jsonb);
    ELSE
      v_one := rw_qual_score(q.gold::jsonb, q.gold_ratings::jsonb, v_rules, NULL, NULL, NULL, NULL, NULL);
    END IF;
    v_one := v_one || jsonb_build_object('item_id', q.item_id,
      'label_id', CASE WHEN FOUND AND (v_one->>'answered')::boolean THEN l.label_id END);
    v_n := v_n + 1;
    v_hit := v_hit + ((v_one->>'matched')::boolean)::integer;
    v_items := v_items || jsonb_build_array(v_one);
    INSERT INTO qualification_results (attempt_id, item_id, label_id, matched, detail)
      VALUES (p_attempt, q.item_id, v_one->>'label_id', ((v_one->>'matched')::boolean)::integer, v_one::text);
  END LOOP;
  IF v_n = 0 THEN
    RAISE EXCEPTION 'qualification % version % has no items', quote_literal(a.name), a.version;
  END IF;
  v_score := v_hit::double precision / v_n;
  v_passed := v_score >= v_pass - 1e-12;
  SELECT coalesce(jsonb_object_agg(crit,
      jsonb_build_object('n', n, 'matched', m, 'rate', m::double precision / n)), '{{}}')
    INTO v_breakdown FROM (SELECT c.key AS crit, count(*) AS n, count(*) FILTER (WHERE c.value = 'true') AS m
      FROM jsonb_array_elements(v_items) s, jsonb_each(s->'checks') c GROUP BY c.key) t;
  v_breakdown := v_breakdown || jsonb_build_object('overall',
    jsonb_build_object('n', v_n, 'matched', v_hit, 'rate', v_score));
  UPDATE qualification_attempts SET finished_at = v_now, score = v_score, passed = v_passed::integer,
    breakdown = v_breakdown::text WHERE attempt_id = p_attempt;
  INSERT INTO qualification_events (name, annotator, event, reason, actor, at, attempt_id, detail)
    VALUES (a.name, v_who, CASE WHEN v_passed THEN 'passed' ELSE 'failed' END,
      'attempt scored ' || to_char(v_score, 'FM0.000'), v_who, v_now, p_attempt, NULL);
  RETURN jsonb_build_object('score', v_score, 'passed', v_passed, 'breakdown', v_breakdown, 'items', v_items);
END $fn$"""

# A label's seq orders an attempt's labels ("the first label per item counts"): nobody but the tables' owner
# picks it, or a label inserted after its answer was shown could be placed before the one that revealed it.
_LABEL_SEQ = """CREATE OR REPLACE FUNCTION rw_label_seq() RETURNS trigger {definer} AS $fn$
BEGIN
  IF NOT pg_has_role(session_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = 'labels'::regclass),
      'MEMBER') THEN
    NEW.seq := nextval(pg_get_serial_sequence('labels', 'seq'));
  END IF;
  RETURN NEW;
END $fn$"""

_OPEN_ATTEMPT_CHECK = (
    "WITH CHECK (annotator = session_user AND finished_at IS NULL AND score IS NULL AND passed IS NULL "
    "AND version = (SELECT max(q.version) FROM qualifications q WHERE q.name = qualification_attempts.name) "
    "AND NOT EXISTS (SELECT 1 FROM qualification_attempts o WHERE o.name = qualification_attempts.name "
    "AND o.annotator = session_user AND o.finished_at IS NULL))"
)


def qualification_statements(path: str) -> list[str]:
    """The qualification part of the setup: column grants hiding the answers, the attempt and event policies,
    and the scoring functions (idempotent: it first revokes what an older setup granted)."""
    everyone = ", ".join(GROUPS)
    labellers = f"{GROUP_ANNOTATOR}, {GROUP_ADJUDICATOR}"
    definer = f"LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {path}, pg_temp"
    hidden = ("qualifications", "qualification_items")
    open_tables = [t for t in QUALIFICATION_TABLES if t not in hidden]
    out = [
        f"REVOKE ALL ON {', '.join(QUALIFICATION_TABLES)} FROM PUBLIC, {everyone}",
        f"GRANT SELECT ON {', '.join(open_tables)} TO {everyone}",
        f"GRANT SELECT ON {', '.join(hidden)} TO {GROUP_LEAD}",
        *(
            f"GRANT SELECT ({', '.join(cols)}) ON {table} TO {labellers}"
            for table, cols in QUALIFICATION_PUBLIC_COLUMNS.items()
        ),
        f"GRANT INSERT ON qualifications, qualification_items, dataset_qualifications TO {GROUP_LEAD}",
        f"GRANT INSERT ({', '.join(ATTEMPT_INSERT_COLUMNS)}) ON qualification_attempts TO {everyone}",
        f"GRANT INSERT ON qualification_events TO {GROUP_LEAD}",  # grants, revokes, resets, requalify
        "ALTER TABLE qualification_attempts ENABLE ROW LEVEL SECURITY",
        *_policy("rw_qattempts_read", "qualification_attempts", "SELECT", GROUPS, "USING (true)"),
        *_policy("rw_qattempts_own", "qualification_attempts", "INSERT", GROUPS, _OPEN_ATTEMPT_CHECK),
        "DROP POLICY IF EXISTS rw_qattempts_update_own ON qualification_attempts",
        "ALTER TABLE qualification_events ENABLE ROW LEVEL SECURITY",
        *_policy("rw_qevents_read", "qualification_events", "SELECT", GROUPS, "USING (true)"),
        "DROP POLICY IF EXISTS rw_qevents_own ON qualification_events",
        *_policy("rw_qevents_lead", "qualification_events", "INSERT", (GROUP_LEAD,), "WITH CHECK (true)"),
        _TAU_B.format(path=path),
        _SCORE.format(path=path, tie=TIE_WINNER),
        _ANSWERS.format(definer=definer),
        _FINISH.format(definer=definer),
        _LABEL_SEQ.format(definer=definer),
        "DROP TRIGGER IF EXISTS rw_label_seq ON labels",
        "CREATE TRIGGER rw_label_seq BEFORE INSERT ON labels FOR EACH ROW EXECUTE FUNCTION rw_label_seq()",
        "REVOKE ALL ON FUNCTION rw_label_seq() FROM PUBLIC",
    ]
    for fn in QUALIFICATION_FUNCTIONS:
        out.append(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        out.append(f"GRANT EXECUTE ON FUNCTION {fn} TO {everyone}")
    return out


TIE_WINNER = "tie"  # rank_widget.schema.TIE (the store does not import the schema here)
QUALIFICATION_FUNCTIONS = (
    "rw_tau_b(jsonb, jsonb)",
    "rw_qual_score(jsonb, jsonb, jsonb, text, text, integer, jsonb, jsonb)",
    "rw_qualification_answers(text, integer)",
    "rw_finish_qualification(text)",
)


def _functions(path: str, max_claim: int, max_held: int) -> list[str]:
    definer = f"LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {path}, pg_temp"
    counted = ", ".join(literal(s) for s in COUNTED)
    claim_one = f"""CREATE OR REPLACE FUNCTION rw_claim_one(p_dataset text, p_who text, p_gold integer,
  p_overlap integer, p_now double precision) RETURNS text {definer} AS $fn$
DECLARE v_skip text[] := '{{}}'; v_item text; v_count bigint; r integer;
BEGIN
  FOR r IN 1 .. 50 LOOP
    IF p_gold = 1 THEN
      {_CANDIDATE.format(order="t.seq")}
    ELSE
      {_CANDIDATE.format(order=CLAIM_ORDER)}
    END IF;
    IF v_item IS NULL OR p_gold = 1 THEN RETURN v_item; END IF;
    -- holding the row lock every claim and completion of this item takes, a fresh count is exact
    SELECT t.done + {_ACTIVE} INTO v_count FROM team_items t
      WHERE t.dataset = p_dataset AND t.item_id = v_item;
    IF v_count < p_overlap THEN RETURN v_item; END IF;
    v_skip := v_skip || v_item;
  END LOOP;
  RETURN NULL;
END $fn$"""
    claim = f"""CREATE OR REPLACE FUNCTION rw_claim(p_dataset text, p_n integer, p_lease double precision)
  RETURNS SETOF text {definer} AS $fn$
DECLARE
  v_who text := session_user; v_now double precision := extract(epoch FROM clock_timestamp());
  v_overlap integer; v_share double precision; v_held bigint; v_gold bigint; v_regular bigint;
  v_item text; v_kinds integer[]; v_kind integer; i integer; v_qual text;
BEGIN
  IF p_n IS NULL OR p_n < 1 OR p_n > {max_claim} THEN
    RAISE EXCEPTION 'a claim takes 1 to {max_claim} items per call on this store, not %', p_n
      USING ERRCODE = '42501';
  END IF;
  IF p_lease IS NULL OR NOT (p_lease > 0 AND p_lease <= {MAX_LEASE_SECONDS}) THEN
    RAISE EXCEPTION 'lease_seconds must be more than 0 and at most {MAX_LEASE_SECONDS:g}, not %', p_lease
      USING ERRCODE = '22023';
  END IF;
  SELECT overlap, gold_share INTO v_overlap, v_share FROM team_datasets WHERE dataset = p_dataset;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no team dataset %; a lead registers it (store.register_items)', quote_literal(p_dataset)
      USING ERRCODE = 'P0002';
  END IF;
  -- a qualification the dataset requires and v_who has not passed (issue 11; store/qualification.py)
  SELECT q.name INTO v_qual FROM dataset_qualifications q WHERE q.dataset = p_dataset
    AND coalesce((SELECT e.event FROM qualification_events e WHERE e.name = q.name
      AND (e.annotator = v_who OR e.annotator IS NULL) ORDER BY e.seq DESC LIMIT 1), '')
      NOT IN ('passed', 'granted') ORDER BY q.name LIMIT 1;
  IF v_qual IS NOT NULL THEN
    RAISE EXCEPTION 'team dataset % requires qualification %, which % has not passed; take it first: '
      'RankWidget(items, store=..., dataset=%, qualification=%) serves it (or a lead grants it)',
      quote_literal(p_dataset), quote_literal(v_qual), quote_literal(v_who), quote_literal(p_dataset),
      quote_literal(v_qual) USING ERRCODE = 'P0002';
  END IF;
  SELECT count(*) INTO v_held FROM assignments WHERE dataset = p_dataset AND annotator = v_who
    AND state = 'leased' AND expires_at > v_now;
  IF v_held >= {max_held} THEN
    RAISE EXCEPTION
      '% already holds % active leases in %, the most one person may hold; label or release some first',
      v_who, v_held, quote_literal(p_dataset) USING ERRCODE = '42501';
  END IF;
  FOR i IN 1 .. least(p_n, {max_held} - v_held) LOOP
    v_kinds := ARRAY[0, 1];
    IF v_share > 0 THEN
      SELECT count(*) FILTER (WHERE t.gold = 1), count(*) FILTER (WHERE t.gold = 0) INTO v_gold, v_regular
        FROM assignments a JOIN team_items t ON t.dataset = a.dataset AND t.item_id = a.item_id
        WHERE a.dataset = p_dataset AND a.annotator = v_who
        AND (a.state IN ('done', 'skipped') OR (a.state = 'leased' AND a.expires_at > v_now));
      IF v_gold < v_share * (v_gold + v_regular + 1) THEN v_kinds := ARRAY[1, 0]; END IF;
    END IF;
    v_item := NULL;
    FOREACH v_kind IN ARRAY v_kinds LOOP
      v_item := rw_claim_one(p_dataset, v_who, v_kind, v_overlap, v_now);
      EXIT WHEN v_item IS NOT NULL;
    END LOOP;
    EXIT WHEN v_item IS NULL;
    INSERT INTO assignments
      (dataset, item_id, annotator, state, claimed_at, expires_at, finished_at, label_id)
      VALUES (p_dataset, v_item, v_who, 'leased', v_now, v_now + p_lease, NULL, NULL)
      ON CONFLICT (dataset, item_id, annotator) DO UPDATE SET state = excluded.state,
      claimed_at = excluded.claimed_at, expires_at = excluded.expires_at, finished_at = NULL, label_id = NULL;
    RETURN NEXT v_item;
  END LOOP;
  RETURN;
END $fn$"""
    leases = f"""CREATE OR REPLACE FUNCTION rw_leases_update(p_dataset text, p_item text, p_release boolean,
  p_lease double precision) RETURNS integer {definer} AS $fn$
DECLARE v_now double precision := extract(epoch FROM clock_timestamp()); v_n integer;
BEGIN
  IF NOT p_release AND (p_lease IS NULL OR NOT (p_lease > 0 AND p_lease <= {MAX_LEASE_SECONDS})) THEN
    RAISE EXCEPTION 'lease_seconds must be more than 0 and at most {MAX_LEASE_SECONDS:g}, not %', p_lease
      USING ERRCODE = '22023';
  END IF;
  UPDATE assignments SET state = CASE WHEN p_release THEN 'released' ELSE state END,
    expires_at = CASE WHEN p_release THEN v_now ELSE v_now + p_lease END
    WHERE dataset = p_dataset AND annotator = session_user AND state = 'leased' AND expires_at > v_now
    AND (p_item IS NULL OR item_id = p_item);
  GET DIAGNOSTICS v_n = ROW_COUNT;
  RETURN v_n;
END $fn$"""
    trigger = f"""CREATE OR REPLACE FUNCTION rw_label_written() RETURNS trigger {definer} AS $fn$
DECLARE v_ds text; v_prev text; v_state text; v_now double precision := extract(epoch FROM clock_timestamp());
  v_delta integer;
BEGIN
  INSERT INTO latest (item_id, annotator, source, label_id, revision, status, seq)
    VALUES (NEW.item_id, NEW.annotator, NEW.source, NEW.label_id, NEW.revision, NEW.status, NEW.seq)
    ON CONFLICT (item_id, annotator, source) DO UPDATE SET label_id = excluded.label_id,
    revision = excluded.revision, status = excluded.status, seq = excluded.seq
    WHERE excluded.revision > latest.revision;
  IF NEW.source NOT IN ({counted}) THEN RETURN NULL; END IF;
  v_state := CASE WHEN NEW.status = 'submitted' THEN 'done' ELSE 'skipped' END;
  FOR v_ds IN SELECT dataset FROM team_items WHERE item_id = NEW.item_id ORDER BY dataset FOR UPDATE LOOP
    SELECT state INTO v_prev FROM assignments WHERE dataset = v_ds AND item_id = NEW.item_id
      AND annotator = NEW.annotator;
    INSERT INTO assignments
      (dataset, item_id, annotator, state, claimed_at, expires_at, finished_at, label_id)
      VALUES (v_ds, NEW.item_id, NEW.annotator, v_state, v_now, v_now, v_now, NEW.label_id)
      ON CONFLICT (dataset, item_id, annotator) DO UPDATE SET state = excluded.state,
      finished_at = excluded.finished_at, label_id = excluded.label_id;
    v_delta := (v_state = 'done')::integer - (coalesce(v_prev, '') = 'done')::integer;
    IF v_delta <> 0 THEN
      UPDATE team_items SET done = done + v_delta WHERE dataset = v_ds AND item_id = NEW.item_id;
    END IF;
  END LOOP;
  RETURN NULL;
END $fn$"""
    return [claim_one, claim, leases, trigger]


# A note on one's own label: its annotator is session_user and the label it names is theirs (RLS on labels
# lets each person see their own), so nobody writes, or squats the key of, a note on another person's label.
_OWN_NOTE = (
    "(annotator = session_user AND EXISTS (SELECT 1 FROM labels l WHERE l.label_id = label_notes.label_id "
    "AND l.annotator = session_user))"
)


def _label_notes_policies(everyone: str) -> list[str]:
    """Label notes (store/notes.py): insert and update (an upsert; never delete) notes on one's own labels;
    a lead also the notes of judge calls (``kind='judge_call'``: judge labels are stored by a lead, as the
    labels policy allows, and a failed call has a note but no label). An annotator reads their own notes,
    leads and adjudicators read all."""
    lead = f"({_OWN_NOTE} OR kind = 'judge_call')"
    out = [
        f"REVOKE DELETE, TRUNCATE ON label_notes FROM PUBLIC, {everyone}",
        f"GRANT SELECT, INSERT, UPDATE ON label_notes TO {everyone}",
        "ALTER TABLE label_notes ENABLE ROW LEVEL SECURITY",
        *_policy(
            "rw_label_notes_read_own",
            "label_notes",
            "SELECT",
            (GROUP_ANNOTATOR,),
            "USING (annotator = session_user)",
        ),
        *_policy(
            "rw_label_notes_read_all",
            "label_notes",
            "SELECT",
            (GROUP_LEAD, GROUP_ADJUDICATOR),
            "USING (true)",
        ),
    ]
    for roles, clause, who in (
        ((GROUP_ANNOTATOR, GROUP_ADJUDICATOR), _OWN_NOTE, "own"),
        ((GROUP_LEAD,), lead, "lead"),
    ):
        out += _policy(f"rw_label_notes_insert_{who}", "label_notes", "INSERT", roles, f"WITH CHECK {clause}")
        out += _policy(
            f"rw_label_notes_update_{who}",
            "label_notes",
            "UPDATE",
            roles,
            f"USING {clause} WITH CHECK {clause}",
        )
    return out


def setup_statements(
    people: Mapping[str, Sequence[str]],
    *,
    schema: str,
    sequences: Sequence[str],
    passwords: Mapping[str, str] | None = None,
    max_claim: int = DEFAULT_MAX_CLAIM,
    max_held: int = DEFAULT_MAX_HELD,
) -> list[tuple[str, str]]:
    """(SQL to run, SQL to show) for the whole setup; the shown text hides passwords. Idempotent."""
    everyone = ", ".join(GROUPS)
    out: list[tuple[str, str]] = []

    def add(*sql: str) -> None:
        out.extend((s, s) for s in sql)

    add(*(_role(g, login=False) for g in GROUPS))
    for name, groups in people.items():
        add(_role(name, login=True))
        pw = (passwords or {}).get(name)
        if pw is not None:
            out.append(
                (
                    f"ALTER ROLE {ident(name)} WITH LOGIN PASSWORD {literal(pw)}",
                    f"ALTER ROLE {ident(name)} WITH LOGIN PASSWORD '********'",
                )
            )
        add(*(f"GRANT {g} TO {ident(name)}" for g in groups))
    path = ident(schema)
    add(f"GRANT USAGE ON SCHEMA {path} TO {everyone}")
    # Append-only by the database: nobody but the owner may change or remove a label.
    add(
        f"REVOKE UPDATE, DELETE, TRUNCATE ON labels, latest, meta FROM PUBLIC, {everyone}",
        "GRANT SELECT ON meta, labels, latest, team_datasets, team_items, assignments, queue_items "
        f"TO {everyone}",
        f"GRANT INSERT ON labels TO {everyone}",
        f"GRANT INSERT, UPDATE ON team_datasets, team_items, assignments TO {GROUP_LEAD}",
        f"GRANT INSERT ON queue_items TO {GROUP_LEAD}, {GROUP_ADJUDICATOR}",
        *(f"GRANT USAGE ON SEQUENCE {s} TO {everyone}" for s in sequences),
    )
    add(*_label_notes_policies(everyone))
    # Qualification (issue 11): leads register sets and decide; answers and passes go through functions.
    add(*qualification_statements(path))
    # Comments on labels (store/comments.py): leads and adjudicators write them as themselves and read all;
    # an annotator reads and marks read (read_at only) the comments on their own labels.
    add(
        f"REVOKE UPDATE, DELETE, TRUNCATE ON label_comments FROM PUBLIC, {everyone}",
        f"GRANT SELECT ON label_comments TO {everyone}",
        f"GRANT INSERT ON label_comments TO {GROUP_LEAD}, {GROUP_ADJUDICATOR}",
        f"GRANT UPDATE (read_at) ON label_comments TO {GROUP_ANNOTATOR}",
        "ALTER TABLE label_comments ENABLE ROW LEVEL SECURITY",
        *_policy(
            "rw_label_comments_read_own",
            "label_comments",
            "SELECT",
            (GROUP_ANNOTATOR,),
            "USING (annotator = session_user)",
        ),
        *_policy(
            "rw_label_comments_read_all",
            "label_comments",
            "SELECT",
            (GROUP_LEAD, GROUP_ADJUDICATOR),
            "USING (true)",
        ),
        *_policy(
            "rw_label_comments_insert",
            "label_comments",
            "INSERT",
            (GROUP_LEAD, GROUP_ADJUDICATOR),
            "WITH CHECK (author = session_user)",
        ),
        *_policy(
            "rw_label_comments_read_mark",
            "label_comments",
            "UPDATE",
            (GROUP_ANNOTATOR,),
            "USING (annotator = session_user)",
        ),
    )
    for table in ("labels", "latest", "assignments"):
        add(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    # Adjudicators read every label (they decide between them); only leads read every lease.
    readers_all = (GROUP_LEAD, GROUP_ADJUDICATOR)
    for table, all_readers in (
        ("labels", readers_all),
        ("latest", readers_all),
        ("assignments", (GROUP_LEAD,)),
    ):
        add(
            *_policy(
                f"rw_{table}_read_own",
                table,
                "SELECT",
                (GROUP_ANNOTATOR,),
                "USING (annotator = session_user)",
            )
        )
        add(*_policy(f"rw_{table}_read_all", table, "SELECT", all_readers, "USING (true)"))
    add(
        *_policy(
            "rw_labels_insert_own",
            "labels",
            "INSERT",
            (GROUP_ANNOTATOR,),
            "WITH CHECK (annotator = session_user AND source <> 'adjudication')",
        ),
        *_policy(
            "rw_labels_insert_adjudication",
            "labels",
            "INSERT",
            (GROUP_ADJUDICATOR,),
            "WITH CHECK (annotator = session_user)",
        ),
        *_policy(
            "rw_labels_insert_lead",
            "labels",
            "INSERT",
            (GROUP_LEAD,),
            "WITH CHECK (annotator = session_user OR source IN ('import', 'simulation', 'judge'))",
        ),
        *_policy("rw_assignments_lead_insert", "assignments", "INSERT", (GROUP_LEAD,), "WITH CHECK (true)"),
        "ALTER TABLE queue_items ENABLE ROW LEVEL SECURITY",
        *_policy("rw_queue_items_read", "queue_items", "SELECT", GROUPS, "USING (true)"),
        *_policy(
            "rw_queue_items_insert",
            "queue_items",
            "INSERT",
            (GROUP_LEAD, GROUP_ADJUDICATOR),
            "WITH CHECK (added_by = session_user)",
        ),
        *_policy("rw_assignments_lead_update", "assignments", "UPDATE", (GROUP_LEAD,), "USING (true)"),
    )
    add(*_functions(path, max_claim, max_held))
    add(
        "DROP TRIGGER IF EXISTS rw_label_written ON labels",
        "CREATE TRIGGER rw_label_written AFTER INSERT ON labels FOR EACH ROW "
        "EXECUTE FUNCTION rw_label_written()",
    )
    for fn in (
        "rw_claim_one(text, text, integer, integer, double precision)",
        "rw_claim(text, integer, double precision)",
        "rw_leases_update(text, text, boolean, double precision)",
        "rw_label_written()",
    ):
        add(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
    add(
        f"GRANT EXECUTE ON FUNCTION rw_claim(text, integer, double precision) TO {everyone}",
        f"GRANT EXECUTE ON FUNCTION rw_leases_update(text, text, boolean, double precision) TO {everyone}",
    )
    marker = json.dumps({"max_claim": max_claim, "max_held": max_held}, sort_keys=True)
    add(
        f"INSERT INTO meta (key, value) VALUES ({literal(MARKER)}, {literal(marker)}) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    )
    return out


# -- SQLite on a hub -----------------------------------------------------------------------------------------


class SharedStoreWarning(UserWarning):
    """A SQLite store others can write to: it has no access control (docs/security.md)."""


def shared_sqlite_reason(path: Path) -> str | None:
    """Why ``path`` is a shared SQLite store, or None for a person's own file.

    The rule: inside a JupyterHub session (``JUPYTERHUB_USER`` set), a store file owned by another user, or
    writable by its group or by others, is shared; for a new file, the same test applies to its folder (a
    team folder such as ``/srv/shared``). A file you own with the default permissions (``rw-r--r--``) is
    yours and gets no warning; outside a hub nothing is checked.
    """
    if not os.environ.get("JUPYTERHUB_USER") or not hasattr(os, "getuid"):
        return None
    probe = path if path.exists() else path.parent
    try:
        st = probe.stat()
    except OSError:
        return None
    what = "file" if probe == path else "folder"
    if st.st_uid != os.getuid():
        return f"the {what} {probe} belongs to another user"
    if st.st_mode & 0o022:
        return f"the {what} {probe} is writable by {'its group' if st.st_mode & 0o020 else 'others'}"
    return None


def warn_if_shared(path: Path) -> None:
    reason = shared_sqlite_reason(path)
    if reason is not None:
        warnings.warn(
            f"{path}: a SQLite store shared on a hub has no access control ({reason}): anyone who can write "
            f"the file can label as anyone, read every label and change or delete rows. For a team, use "
            f"PostgreSQL with rank_widget.team.setup ({SECURITY_DOC})",
            SharedStoreWarning,
            stacklevel=3,
        )


def run_setup(
    db: Any,
    annotators: Iterable[str],
    leads: Iterable[str],
    adjudicators: Iterable[str],
    *,
    passwords: Mapping[str, str] | None,
    echo: bool,
    max_claim: int,
    max_held: int,
) -> list[str]:
    """Run the setup SQL in one transaction on an admin connection (``db``: the store's Database, migrated);
    returns the statements as shown (passwords hidden), printing each first when ``echo``."""
    if db.dialect != "postgresql":
        raise StoreError(
            f"{db.url}: access control needs PostgreSQL; a SQLite file has no roles (it is one person's "
            f"store, {SECURITY_DOC})"
        )
    people = check_people(annotators, leads, adjudicators)
    for name, value in (("max_claim", max_claim), ("max_held", max_held)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    if max_held < max_claim:
        raise ValueError(f"max_held ({max_held}) must be at least max_claim ({max_claim})")
    for name, pw in (passwords or {}).items():
        if name not in people:
            raise ValueError(f"passwords: {name!r} is not among the people set up ({sorted(people)})")
        if not isinstance(pw, str) or not pw or "\x00" in pw:
            raise ValueError(f"passwords[{name!r}] must be a non-empty string")
    shown: list[str] = []
    with db.write() as conn, db.cursor(conn) as cur:
        cur.execute("SELECT pg_advisory_xact_lock(7252012346)")  # two setups at once: one after the other
        cur.execute(
            "SELECT current_schema(), pg_get_serial_sequence('labels', 'seq'), "
            "pg_get_serial_sequence('queue_items', 'seq'), pg_get_serial_sequence('label_comments', 'seq'), "
            "pg_get_serial_sequence('qualification_events', 'seq')"
        )
        schema, *seqs = cur.fetchone()
        statements = setup_statements(
            people,
            schema=str(schema),
            sequences=[str(s) for s in seqs if s],
            passwords=passwords,
            max_claim=max_claim,
            max_held=max_held,
        )
        for run, show in statements:
            if echo:
                print(show + ";")
            cur.execute(run)
            shown.append(show)
    return shown
