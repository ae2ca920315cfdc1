"""The server-drawn SVG charts: what a reader sees and hears, and every mark where its value puts it."""

import xml.etree.ElementTree as ElementTree
from datetime import date, timedelta

import pytest

from core.charts import EMPTY_TEXT, PALETTE, Series, bar_chart, line_chart, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"
DAY = date(2026, 12, 1)


def days(*values):
    return [(DAY + timedelta(days=offset), value) for offset, value in enumerate(values)]


def parse(chart) -> ElementTree.Element:
    return ElementTree.fromstring(str(chart))


def marks(root, tag):
    return [element for element in root.iter(SVG + tag) if element.find(SVG + "title") is not None]


def tooltips(root, tag):
    return [mark.find(SVG + "title").text for mark in marks(root, tag)]


def grid(root) -> dict[str, float]:
    """Each y tick's label and the height of its grid line."""
    lines = [float(line.get("y1")) for line in root.iter(SVG + "line") if line.get("class") == "chart-grid"]
    labels = [text.text for text in root.iter(SVG + "text") if text.get("class") == "chart-tick"]
    return dict(zip(labels, lines, strict=True))


def date_labels(root) -> dict[str, float]:
    return {text.text: float(text.get("x")) for text in root.iter(SVG + "text") if text.get("class") == "chart-date"}


@pytest.mark.parametrize(("highest", "ticks"), [
    (120, [0, 50, 100, 150]),
    (100, [0, 25, 50, 75, 100]),
    (7, [0, 2, 4, 6, 8]),
    (4000, [0, 1000, 2000, 3000, 4000]),
    (0.3, [0, 0.1, 0.2, 0.3]),
    (0, [0, 1]),
])
def test_ticks_are_round_numbers_from_zero_reaching_the_highest_value(highest, ticks):
    assert nice_ticks(highest) == ticks


def test_a_chart_is_an_image_named_and_described_for_a_screen_reader():
    root = parse(line_chart(title="Latency", series=[Series("p95", days(100, 200))], unit="ms"))
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert root.get("viewBox").startswith("0 0 760 ")
    title, desc = root.find(SVG + "title"), root.find(SVG + "desc")
    assert title.text == "Latency"
    assert desc.text == "Lines by date from 2026-12-01 to 2026-12-02. Series: p95 (highest 200 ms)."
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_labels_from_tenant_data_are_escaped_everywhere():
    hostile = '<script>alert("x")</script>&'
    chart = str(bar_chart(title=hostile, series=[Series(hostile, days(3))]))
    assert "<script>" not in chart
    root = parse(chart)  # well-formed: nothing broke out of its element
    assert root.find(SVG + "title").text == hostile
    assert tooltips(root, "rect") == [f"2026-12-01 · {hostile}: 3"]
    assert hostile in [text.text for text in root.iter(SVG + "text")]


@pytest.mark.parametrize("series", [[], [Series("erp", [])], [Series("erp", days(0, 0)), Series("crm", days(0))]])
@pytest.mark.parametrize("draw", [line_chart, bar_chart])
def test_nothing_to_draw_says_so(draw, series):
    root = parse(draw(title="Usage", series=series))
    assert root.find(SVG + "desc").text == EMPTY_TEXT
    assert [text.text for text in root.iter(SVG + "text")] == [EMPTY_TEXT]
    assert not marks(root, "rect") and not marks(root, "circle")


def test_each_series_has_its_own_colour_and_legend_entry():
    series = [Series(f"tool{index}", days(index + 1)) for index in range(len(PALETTE))]
    root = parse(bar_chart(title="Usage", series=series))
    legend = root.find(f"{SVG}g[@class='chart-legend']")
    swatches = [rect.get("fill") for rect in legend.iter(SVG + "rect")]
    assert swatches == list(PALETTE)
    assert [text.text for text in legend.iter(SVG + "text")] == [one.label for one in series]
    assert [rect.get("fill") for rect in marks(root, "rect")] == list(PALETTE)


def test_stacked_bars_pile_up_to_the_day_total():
    root = parse(bar_chart(title="Usage", series=[Series("erp", days(60, 0, 20)), Series("crm", days(40, 30))]))
    ticks = grid(root)
    assert list(ticks) == ["0", "25", "50", "75", "100"]  # the highest day is 60 + 40
    assert tooltips(root, "rect") == ["2026-12-01 · erp: 60", "2026-12-01 · crm: 40", "2026-12-02 · crm: 30",
                                      "2026-12-03 · erp: 20"]
    erp_first, crm_first, crm_second, _ = marks(root, "rect")
    assert float(erp_first.get("y")) + float(erp_first.get("height")) == ticks["0"]
    assert float(crm_first.get("y")) + float(crm_first.get("height")) == pytest.approx(float(erp_first.get("y")))
    assert float(crm_first.get("y")) == ticks["100"]
    assert float(crm_second.get("height")) == pytest.approx((ticks["0"] - ticks["100"]) * 0.3, abs=0.1)
    assert erp_first.get("x") == crm_first.get("x")


def test_unstacked_bars_stand_side_by_side_on_one_scale():
    root = parse(bar_chart(title="Usage", series=[Series("erp", days(60)), Series("crm", days(40))], stacked=False))
    assert list(grid(root)) == ["0", "20", "40", "60"]
    erp, crm = marks(root, "rect")
    assert float(erp.get("x")) + float(erp.get("width")) == pytest.approx(float(crm.get("x")))
    assert float(erp.get("y")) == grid(root)["60"]


def test_points_sit_at_their_date_and_value():
    root = parse(line_chart(title="Success rate", series=[Series("success", days(100, 50, 0))], unit="%",
                            y_max=100))
    ticks = grid(root)
    assert list(ticks) == ["0%", "25%", "50%", "75%", "100%"]
    labels = date_labels(root)
    points = [(float(point.get("cx")), float(point.get("cy"))) for point in marks(root, "circle")]
    assert points == [(labels["2026-12-01"], ticks["100%"]), (labels["2026-12-02"], ticks["50%"]),
                      (labels["2026-12-03"], ticks["0%"])]
    assert tooltips(root, "circle") == ["2026-12-01 · success: 100%", "2026-12-02 · success: 50%",
                                        "2026-12-03 · success: 0%"]


def test_a_missing_date_breaks_the_line_instead_of_drawing_zero():
    present = days(10, 20, None, 40, 50)
    series = Series("p50", [(day, value) for day, value in present if value is not None])
    root = parse(line_chart(title="Latency", series=[series, Series("p95", days(1, 1, 1, 1, 1))], unit="ms"))
    lines = [line.get("points").split() for line in root.iter(SVG + "polyline")]
    assert [len(points) for points in lines] == [2, 2, 5]
    assert len(marks(root, "circle")) == 4 + 5


def test_a_date_without_a_value_keeps_its_place_on_the_axis():
    nan = float("nan")
    root = parse(line_chart(title="Success rate", series=[Series("success", days(nan, 80, nan, nan))], unit="%"))
    assert list(date_labels(root)) == ["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"]
    assert tooltips(root, "circle") == ["2026-12-02 · success: 80%"]
    assert root.find(SVG + "desc").text.endswith("Series: success (highest 80%).")
    nothing = parse(line_chart(title="Success rate", series=[Series("success", days(nan, nan))]))
    assert nothing.find(SVG + "desc").text == EMPTY_TEXT
    bars = parse(bar_chart(title="Usage", series=[Series("erp", days(nan, 5))]))
    assert tooltips(bars, "rect") == ["2026-12-02 · erp: 5"]


def test_a_long_period_labels_a_few_dates_not_all():
    root = parse(bar_chart(title="Usage", series=[Series("erp", days(*range(1, 31)))]))
    assert list(date_labels(root)) == ["2026-12-01", "2026-12-06", "2026-12-11", "2026-12-16", "2026-12-21",
                                       "2026-12-26"]
    assert len(marks(root, "rect")) == 30


def test_a_long_legend_wraps_and_pushes_the_plot_down():
    short = parse(bar_chart(title="Usage", series=[Series("erp", days(1))]))
    many = [Series(f"a-rather-long-product-name-{index}", days(1)) for index in range(6)]
    tall = parse(bar_chart(title="Usage", series=many))
    legend_rows = {text.get("y") for text in tall.find(f"{SVG}g[@class='chart-legend']").iter(SVG + "text")}
    assert len(legend_rows) > 1
    assert grid(tall)["0"] - grid(short)["0"] == 20 * (len(legend_rows) - 1)
    assert float(tall.get("viewBox").split()[3]) > float(short.get("viewBox").split()[3])
