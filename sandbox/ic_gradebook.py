"""The simulated IC's gradebook rules: what a lineItem or result must satisfy to be stored.

Beyond the official schema (`sandbox.ic_schema`), the checks a real server makes: the class,
school and category a lineItem names must exist and fit together; a result's lineItem must
have been PUT before, its student must be enrolled in that lineItem's class, and its score must
fit its scoreStatus; an object never moves to another class or lineItem; locked classes refuse
writes. Problems with a body are 422 `invaliddata`; the URL's own object unknown is 404.
"""

import json
from collections.abc import Callable, Iterable

from sandbox.ic_errors import GradebookError
from sandbox.ic_roster import IcClass, Roster
from sandbox.ic_schema import PayloadValidator, SchemaError
from sandbox.ic_store import GradebookStore, MissingLineItem


class Gradebook:
    """Thread-safe: `store` serialises the writes."""

    def __init__(
        self, roster: Roster, store: GradebookStore, locked_classes: Iterable[str] = ()
    ) -> None:
        self.roster = roster
        self.store = store
        self.locked_classes = frozenset(locked_classes)
        self.validators = {version: PayloadValidator(version) for version in ("1.1", "1.2")}

    def get(self, kind: str, sourced_id: str) -> dict:
        item = (self.store.line_item if kind == "lineItem" else self.store.result)(sourced_id)
        if item is None:
            raise unknown(kind, sourced_id)
        return item

    def categories(self, class_id: str) -> tuple[dict, ...]:
        """A class's categories, or with no class id the district-wide list."""
        if not class_id:
            return self.roster.global_categories
        klass = self.roster.get(class_id)
        if klass is None:
            raise unknown("class", class_id)
        return klass.categories

    def put_line_item(self, version: str, sourced_id: str, body: bytes) -> bool:
        """Stores a lineItem body received by PUT; returns whether it was new. GradebookError
        (422, 403) when it may not be stored."""
        validator = self.validators[version]
        item = _validated(validator.line_item, body)
        _same_id("lineItem", item, sourced_id)
        class_id = item["class"]["sourcedId"]
        klass = self._class(class_id, "lineItem.class.sourcedId")
        school = item.get("school")
        if school is not None and school.get("sourcedId") != klass.school:
            raise _invalid(
                f"lineItem.school.sourcedId: class {class_id!r} belongs to school "
                f"{klass.school!r}, not {school.get('sourcedId')!r}"
            )
        category = item.get("category")
        # 1.2 needs one of the class's own categories; 1.1 IC stores a placeholder (reference §1.7).
        if validator.version == "1.2" and category["sourcedId"] not in klass.category_ids:
            raise _invalid(
                f"lineItem.category.sourcedId: class {class_id!r} has no category "
                f"{category['sourcedId']!r} (GET /classes/{class_id}/categories lists them)"
            )
        low, high = item.get("resultValueMin"), item.get("resultValueMax")
        if low is not None and high is not None and high < low:
            raise _invalid(f"lineItem.resultValueMax ({high}) is below resultValueMin ({low})")
        stored = self.store.line_items.get(sourced_id)
        if stored is not None and stored.ref != class_id:
            raise _invalid(
                f"lineItem.class.sourcedId: lineItem {sourced_id!r} belongs to class "
                f"{stored.ref!r} and cannot move to {class_id!r}"
            )
        created, _ = self.store.put_line_item(sourced_id, class_id, body)
        return created

    def put_result(self, version: str, sourced_id: str, body: bytes) -> bool:
        """Stores a result body received by PUT; returns whether it was new."""
        result = _validated(self.validators[version].result, body)
        _same_id("result", result, sourced_id)
        line_item_id = result["lineItem"]["sourcedId"]
        line_item = self.store.line_items.get(line_item_id)
        if line_item is None:
            raise _invalid(
                f"result.lineItem.sourcedId: unknown lineItem {line_item_id!r} (PUT it first)"
            )
        class_id = line_item.ref
        klass = self._class(class_id, "result.lineItem")
        student = result["student"]["sourcedId"]
        if student not in klass.students:
            raise _invalid(
                f"result.student.sourcedId: student {student!r} is not enrolled in class "
                f"{class_id!r}"
            )
        stated = result.get("class")
        if stated is not None and stated.get("sourcedId") != class_id:
            raise _invalid(
                f"result.class.sourcedId: {stated.get('sourcedId')!r} is not the class of "
                f"lineItem {line_item_id!r} ({class_id!r})"
            )
        status, score = result["scoreStatus"], result.get("score")
        if status == "fully graded" and score is None:
            raise _invalid("result.score: required when scoreStatus is 'fully graded'")
        if status == "exempt" and score is not None:
            raise _invalid("result.score: must be absent or null when scoreStatus is 'exempt'")
        stored = self.store.results.get(sourced_id)
        if stored is not None and stored.ref != line_item_id:
            raise _invalid(
                f"result.lineItem.sourcedId: result {sourced_id!r} belongs to lineItem "
                f"{stored.ref!r} and cannot move to {line_item_id!r}"
            )
        try:
            created, _ = self.store.put_result(sourced_id, line_item_id, body)
        except MissingLineItem:  # deleted by a concurrent request since the check above
            message = f"result.lineItem.sourcedId: unknown lineItem {line_item_id!r}"
            raise _invalid(message) from None
        return created

    def delete(self, kind: str, sourced_id: str) -> None:
        """Deletes a lineItem (with its results) or a result; 404 if unknown."""
        table = self.store.line_items if kind == "lineItem" else self.store.results
        record = table.get(sourced_id)
        if record is None:
            raise unknown(kind, sourced_id)
        if kind == "lineItem":
            class_id = record.ref
        else:
            line_item = self.store.line_items.get(record.ref)
            class_id = line_item.ref if line_item is not None else ""
        self._writable(class_id)
        try:
            if kind == "lineItem":
                self.store.delete_line_item(sourced_id)  # its results go with it
            else:
                self.store.delete_result(sourced_id)
        except KeyError:  # deleted by a concurrent request
            raise unknown(kind, sourced_id) from None

    def _class(self, class_id: str, field: str) -> IcClass:
        klass = self.roster.get(class_id)
        if klass is None:
            raise _invalid(f"{field}: unknown class {class_id!r}")
        self._writable(class_id)
        return klass

    def _writable(self, class_id: str) -> None:
        if class_id in self.locked_classes:
            raise GradebookError(
                403, "forbidden", f"These credentials may not write to class {class_id!r}"
            )


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)  # built once: it is not free


def _parse(body: bytes) -> object:
    if not body:
        raise GradebookError(400, "invaliddata", "The request body is empty")
    try:
        return _DECODER.decode(body.decode("utf-8"))
    except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
        raise GradebookError(400, "invaliddata", f"The request body is not JSON: {error}") from None


def _validated(validate: Callable[[object], dict], body: bytes) -> dict:
    payload = _parse(body)
    try:
        return validate(payload)
    except SchemaError as error:
        where = str(error) if error.path else f"request body {error.problem}"
        raise _invalid(where) from None


def _same_id(kind: str, item: dict, sourced_id: str) -> None:
    stated = item.get("sourcedId")
    if stated is not None and stated != sourced_id:
        raise _invalid(f"{kind}.sourcedId: {stated!r} does not match the URL's {sourced_id!r}")


def _invalid(description: str) -> GradebookError:
    return GradebookError(422, "invaliddata", description)


def unknown(kind: str, sourced_id: str) -> GradebookError:
    return GradebookError(404, "unknownobject", f"Unknown {kind} {sourced_id!r}")
