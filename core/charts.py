"""Charts the back office draws on the server: inline SVG, no script, nothing to serve or vendor.

A chart is one `<svg role="img">` named by its `<title>` and summarised by its `<desc>` for a
screen reader; every point or bar carries its own `<title>`, the browser's tooltip. The x axis
is the sorted union of the series' dates, evenly spaced: a caller that wants every day of a
period shown passes every day. A value of NaN is a date without a value: on the axis, but no
point or bar (a line is broken there rather than drawn down to zero).
Labels come from tenant data, so every one of them is escaped.
"""

import itertools
import math
from dataclasses import dataclass
from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

__all__ = ["PALETTE", "Series", "bar_chart", "line_chart", "nice_ticks"]

# Okabe and Ito's colours, told apart under the common colour-vision deficiencies; their black is
# left out (it vanishes on the admin's dark theme) and yellow comes last, as it is faint on white.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
EMPTY_TEXT = "No data in this period"

WIDTH = 760
PLOT_HEIGHT = 200
MARGIN_LEFT = 72
MARGIN_RIGHT = 16
LEGEND_ROW = 20
X_LABEL_ROOM = 28
X_LABELS = 6
CHAR_WIDTH = 7  # an estimate of a 12 px label's glyph width, to wrap the legend

_chart_ids = itertools.count(1)


@dataclass(frozen=True)
class Series:
    label: str
    points: list[tuple[date, float]]


def nice_ticks(highest: float, *, intervals: int = 4) -> list[float]:
    """Ticks from 0 in steps of 1, 2, 2.5 or 5 times a power of ten, the last one at or above `highest`."""
    if highest <= 0:
        return [0.0, 1.0]
    rough = highest / intervals
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= rough)
    # The epsilon keeps 100 / 25 from becoming five steps through floating-point noise.
    return [round(step * i, 10) for i in range(math.ceil(highest / step - 1e-9) + 1)]


def line_chart(*, title: str, series: list[Series], unit: str = "", y_max: float | None = None) -> SafeString:
    """One line per series, a dot with its tooltip per point; `y_max` fixes the scale (100 for a rate)."""
    dates, known = _dates(series), _known(series)
    if not _has_data(known):
        return _empty(title)
    highest = max(value for values in known for value in values.values())
    frame = _Frame(dates, series, nice_ticks(max(highest, y_max or 0)))
    marks = []
    for colour, one, values in zip(itertools.cycle(PALETTE), series, known):
        for run in _runs(dates, values):
            coordinates = " ".join(",".join(frame.point(day, values[day])) for day in run)
            marks.append(format_html('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
                                     coordinates, colour))
        marks.extend(
            format_html('<circle cx="{}" cy="{}" r="3.5" fill="{}"><title>{}</title></circle>',
                        *frame.point(day, values[day]), colour, _tooltip(day, one.label, values[day], unit))
            for day in dates if day in values
        )
    summary = "; ".join(f"{one.label} (highest {_amount(max(values.values()), unit)})"
                        for one, values in zip(series, known) if values)
    return frame.svg(title, f"Lines by date from {dates[0]} to {dates[-1]}. Series: {summary}.", marks, unit)


def bar_chart(*, title: str, series: list[Series], unit: str = "", stacked: bool = True) -> SafeString:
    """A bar per series and date, stacked into one column a date or side by side."""
    dates, known = _dates(series), _known(series)
    if not _has_data(known):
        return _empty(title)
    columns = [[values.get(day, 0) for values in known] for day in dates]
    highest = max(sum(column) if stacked else max(column) for column in columns)
    frame = _Frame(dates, series, nice_ticks(highest))
    marks = []
    for day, column in zip(dates, columns):
        base = 0.0
        for index, (colour, one, value) in enumerate(zip(itertools.cycle(PALETTE), series, column)):
            if value:
                width = frame.band * (0.7 if stacked else 0.8 / len(series))
                left = frame.x(day) - (width / 2 if stacked else frame.band * 0.4 - index * width)
                top = frame.y(base + value)
                marks.append(format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
                    _coordinate(left), _coordinate(top), _coordinate(width), _coordinate(frame.y(base) - top), colour,
                    _tooltip(day, one.label, value, unit),
                ))
            if stacked:
                base += value
    summary = "; ".join(f"{one.label} (total {_amount(sum(values.values()), unit)})"
                        for one, values in zip(series, known))
    kind = "Stacked bars" if stacked else "Bars"
    return frame.svg(title, f"{kind} by date from {dates[0]} to {dates[-1]}. Series: {summary}.", marks, unit)


class _Frame:
    """Where things go: the legend on top, then the plot with its y ticks on the left, dates below."""

    def __init__(self, dates: list[date], series: list[Series], ticks: list[float]):
        self.dates = dates
        self.ticks = ticks
        self.legend, legend_rows = _legend(series)
        self.plot_top = legend_rows * LEGEND_ROW + 12  # room above the top tick's label
        self.plot_bottom = self.plot_top + PLOT_HEIGHT
        self.height = self.plot_bottom + X_LABEL_ROOM
        self.band = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / len(dates)
        self._index = {day: index for index, day in enumerate(dates)}

    def x(self, day: date) -> float:
        return MARGIN_LEFT + (self._index[day] + 0.5) * self.band

    def y(self, value: float) -> float:
        return self.plot_bottom - min(value / self.ticks[-1], 1) * PLOT_HEIGHT

    def point(self, day: date, value: float) -> tuple[str, str]:
        return _coordinate(self.x(day)), _coordinate(self.y(value))

    def svg(self, title: str, description: str, marks: list[SafeString], unit: str) -> SafeString:
        return _svg(self.height, title, description, mark_safe("".join([
            self._grid(unit), self._date_labels(), self.legend, *marks,
        ])))

    def _grid(self, unit: str) -> SafeString:
        return format_html_join("", (
            '<line class="chart-grid" x1="{}" x2="{}" y1="{}" y2="{}" stroke="currentColor" stroke-opacity="{}"/>'
            '<text class="chart-tick" x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>'
        ), (
            (MARGIN_LEFT, WIDTH - MARGIN_RIGHT, _coordinate(self.y(tick)), _coordinate(self.y(tick)),
             "0.6" if tick == 0 else "0.15", MARGIN_LEFT - 8, _coordinate(self.y(tick)),
             _with_unit(_compact(tick), unit))
            for tick in self.ticks
        ))

    def _date_labels(self) -> SafeString:
        every = math.ceil(len(self.dates) / X_LABELS)
        return format_html_join("", '<text class="chart-date" x="{}" y="{}" text-anchor="middle">{}</text>', (
            (_coordinate(self.x(day)), self.plot_bottom + 18, day.isoformat()) for day in self.dates[::every]
        ))


def _legend(series: list[Series]) -> tuple[SafeString, int]:
    items, x, row = [], MARGIN_LEFT, 0
    for colour, one in zip(itertools.cycle(PALETTE), series):
        width = 18 + len(one.label) * CHAR_WIDTH + 18
        if x + width > WIDTH - MARGIN_RIGHT and x > MARGIN_LEFT:
            x, row = MARGIN_LEFT, row + 1
        items.append((x, row * LEGEND_ROW + 2, colour, x + 18, row * LEGEND_ROW + 12, one.label))
        x += width
    legend = format_html_join("", (
        '<rect x="{}" y="{}" width="12" height="12" fill="{}"/>'
        '<text class="chart-legend" x="{}" y="{}" dominant-baseline="middle">{}</text>'
    ), items)
    return format_html('<g class="chart-legend">{}</g>', legend), row + 1


def _svg(height: int, title: str, description: str, body: SafeString) -> SafeString:
    chart_id = f"chart-{next(_chart_ids)}"
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="hub-chart" viewBox="0 0 {} {}" width="100%"'
        ' role="img" aria-labelledby="{}-title {}-desc" font-size="12" fill="currentColor">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        WIDTH, height, chart_id, chart_id, chart_id, title, chart_id, description, body,
    )


def _empty(title: str) -> SafeString:
    return _svg(60, title, EMPTY_TEXT, format_html(
        '<text class="chart-empty" x="{}" y="34" text-anchor="middle">{}</text>', WIDTH // 2, EMPTY_TEXT,
    ))


def _dates(series: list[Series]) -> list[date]:
    return sorted({day for one in series for day, _ in one.points})


def _known(series: list[Series]) -> list[dict[date, float]]:
    """Each series' values by date, the dates without one (NaN) left out."""
    return [{day: value for day, value in one.points if not math.isnan(value)} for one in series]


def _has_data(known: list[dict[date, float]]) -> bool:
    return any(value for values in known for value in values.values())


def _runs(dates: list[date], values: dict[date, float]) -> list[list[date]]:
    """The stretches of consecutive dates a series has a value for: a line is broken where it has none."""
    runs, current = [], []
    for day in dates:
        if day in values:
            current.append(day)
        elif current:
            runs.append(current)
            current = []
    return [*runs, current] if current else runs


def _tooltip(day: date, label: str, value: float, unit: str) -> str:
    return f"{day.isoformat()} · {label}: {_amount(value, unit)}"


def _amount(value: float, unit: str) -> str:
    return _with_unit(f"{value:,.0f}" if value == int(value) else f"{value:,.1f}", unit)


def _compact(value: float) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:.1f}".removesuffix(".0") + suffix
    return f"{value:g}"


def _with_unit(text: str, unit: str) -> str:
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def _coordinate(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")
