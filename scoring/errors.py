"""Located input problems: collected as values, then raised together."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as the user sees it.

    ``sheet`` is the workbook sheet (``schools``/``county``/``veto``) or the
    responses file name; ``row`` is the Excel row (header = 1) or the CSV line
    number (header = 1); ``column`` the English key of the column or field, for
    programs. ``sheet_label`` and ``column_label`` are the sheet and the header as
    the user wrote them (学校, 小学在校生数), which messages show; ``expected`` is the
    Chinese sentence saying what is wrong or what was expected.
    """

    sheet: str
    row: int | None
    column: str | None
    value: str | None
    expected: str
    sheet_label: str | None = None
    column_label: str | None = None

    @property
    def place(self) -> str:
        """The sheet or file as the user knows it."""
        return self.sheet_label or self.sheet

    @property
    def heading(self) -> str | None:
        """The column as the user wrote its header."""
        return self.column_label or self.column

    def __str__(self) -> str:
        where = self.place
        if self.row is not None:
            where += f" 第 {self.row} 行"
        if self.heading:
            where += f" {self.heading}"
        if self.value is None:
            return f"{where}：{self.expected}"
        return f"{where}：“{self.value}”{self.expected}"

    def to_dict(self) -> dict:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "expected": self.expected,
            "message": str(self),
        }


class InputError(Exception):
    """An input that cannot be evaluated, with every problem found in it."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class WorkbookError(InputError):
    """The indicator workbook cannot be evaluated."""


class ResponsesError(InputError):
    """The responses file cannot be evaluated."""
