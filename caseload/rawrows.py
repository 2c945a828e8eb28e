"""Model instances from rows read with hand-written SQL, exactly as the ORM would build them.

For the few hot statements that skip the ORM's compiler (name search's shown clients, the outbox's
claim): the row goes through each column's database converters (JSON, dates on SQLite, ...) and then
``Model.from_db``, as ``QuerySet`` iteration does; nothing is deferred. ``Template``: a queryset's
statement compiled once, with holes for SQL compiled per call, read as iterating the queryset reads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.query import get_related_populators


class Quoted:
    """The quoted names of ``model``'s table and columns on a database, for hand-written statements:
    ``q.table``, ``q["field"]`` (a field's column; ``q["pk"]`` the primary key's)."""

    def __init__(self, model: type[Model], alias: str) -> None:
        self.opts = model._meta
        self.quote = connections[alias].ops.quote_name
        self.table = self.quote(self.opts.db_table)

    def __getitem__(self, name: str) -> str:
        return self.quote((self.opts.pk if name == "pk" else self.opts.get_field(name)).column)


def columns(model: type[Model], alias: str) -> str:
    """Every concrete column of ``model``, quoted, in field order: what ``loader`` reads.

    Kept per connection, as ``loader`` is: quoting forty columns again for each search was a tenth of a phone
    search's time."""
    connection = connections[alias]
    cache = connection.__dict__.setdefault("_caseload_columns", {})
    found = cache.get(model)
    if found is None:
        quote = connection.ops.quote_name
        found = cache[model] = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
    return found


def loader(model: type[Model], alias: str) -> Callable[[Sequence[Any]], Model]:
    """A function turning a row of ``columns(model, alias)`` into a saved ``model`` instance."""
    connection = connections[alias]
    cache = connection.__dict__.setdefault("_caseload_loaders", {})
    if model in cache:
        return cache[model]
    fields = model._meta.concrete_fields
    names = [field.attname for field in fields]
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((index, found, column))

    def load(row: Sequence[Any]) -> Model:
        if converters:
            row = list(row)
            for index, functions, column in converters:
                value = row[index]
                for function in functions:
                    value = function(value, column, connection)
                row[index] = value
        return model.from_db(alias, names, row)

    cache[model] = load
    return load


def template(alias: str, key: Any, holes: Sequence[str], build: Callable[[], QuerySet]) -> Template:
    """The ``Template`` of ``build()``'s queryset with these holes, made once per connection and ``key`` (what
    shapes the statement), and kept with the connection."""
    cache = connections[alias].__dict__.setdefault("_caseload_templates", {})
    found = cache.get(key)
    if found is None:
        if len(cache) >= 256:  # a few dozen shapes in all; never more than this
            cache.clear()
        found = cache[key] = Template(build(), holes)
    return found


def hole(name: str) -> RawSQL:
    """A place in a ``Template``'s queryset for SQL given on each call: ``name``, a plain word, stands in for it."""
    if not name.isidentifier():
        raise ValueError(f"not a plain word: {name!r}")
    return RawSQL(name, [])  # noqa: S611 (a plain word, replaced before the statement is sent)


class Template:
    """``queryset``'s statement, compiled once, with its ``hole``s filled on each call by SQL compiled then.

    For a statement whose shape never changes but for a part that does (counted()'s rows: "these ids, in this
    order, with their clients"): the ORM builds and compiles it once, and each call costs a string join.
    ``rows`` builds the instances as iterating the queryset does (its select_related objects, its annotations);
    querysets with prefetching or known related objects are not for it. Compiling it on one connection, keep it
    with that connection (the compiler holds it).
    """

    def __init__(self, queryset: QuerySet, holes: Sequence[str]) -> None:
        if queryset._prefetch_related_lookups or queryset._known_related_objects:
            raise ValueError("a Template reads no prefetched or known related objects")
        self.alias = queryset.db
        self.compiler = queryset.query.get_compiler(self.alias)
        sql, params = self.compiler.as_sql()
        # The statement's text between its holes, each piece with its own parameters (%s; %% is a percent sign).
        self.parts = re.split("(" + "|".join(re.escape(name) for name in holes) + ")", sql)
        self.holes = frozenset(holes)
        self.params: list[list[Any]] = []
        taken = 0
        for part in self.parts:
            count = 0 if part in self.holes else part.replace("%%", "").count("%s")
            self.params.append(list(params[taken : taken + count]))
            taken += count
        if taken != len(params) or not self.holes & set(self.parts):
            raise ValueError("the statement's parameters or holes could not be placed")
        select, klass_info = self.compiler.select, self.compiler.klass_info
        fields = klass_info["select_fields"]
        self.model, self.start, self.end = klass_info["model"], fields[0], fields[-1] + 1
        self.names = [column[0].target.attname for column in select[self.start : self.end]]
        self.related = get_related_populators(klass_info, select, self.alias)
        self.annotations = list(self.compiler.annotation_col_map.items())

    def statement(self, filled: dict[str, tuple[str, Sequence[Any]]]) -> tuple[str, list[Any]]:
        """The statement with each hole's SQL and parameters in its place."""
        sql, params = [], []
        for part, own in zip(self.parts, self.params, strict=True):
            if part in self.holes:
                part, own = filled[part]
            sql.append(part)
            params.extend(own)
        return "".join(sql), params

    def rows(self, filled: dict[str, tuple[str, Sequence[Any]]]) -> list[Model]:
        """The instances the statement reads, with its holes filled."""
        compiler, alias = self.compiler, self.alias
        with connections[alias].cursor() as cursor:
            cursor.execute(*self.statement(filled))
            fetched = cursor.fetchall()
        found = []
        for row in compiler.results_iter([fetched]):
            instance = self.model.from_db(alias, self.names, row[self.start : self.end])
            for populator in self.related:
                populator.populate(row, instance)
            for name, position in self.annotations:
                setattr(instance, name, row[position])
            found.append(instance)
        return found
