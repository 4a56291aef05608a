"""Admin: the dashboard. Figures come from checkout/orders/reports.py and after_delivery_reports.py; this only
picks the periods."""

from flask import render_template, request

from admin.access import requires
from admin.blueprint import admin_blueprint as bp
from admin.dashboard_chart import bar_chart
from checkout.database import utcnow
from checkout.models.store import get_store_settings
from checkout.orders import after_delivery_reports, reports
from checkout.staff.permissions import Permission

CHART_DAYS = 30


def _funnel_periods(now, zone_name: str) -> dict[str, reports.Period]:
    periods = [
        reports.today(now, zone_name),
        reports.this_week(now, zone_name),
        reports.last_days(now, CHART_DAYS, zone_name),
    ]
    return {period.key: period for period in periods}


@bp.get("/dashboard")
@requires(Permission.VIEW_DASHBOARD)
def dashboard():
    now, zone_name = utcnow(), get_store_settings().zone_name  # days and weeks are the shop's
    funnel_periods = _funnel_periods(now, zone_name)
    funnel_period = funnel_periods.get(request.args.get("funnel", ""), funnel_periods[f"{CHART_DAYS}d"])
    funnel_source = request.args.get("source", "")
    funnel_source = funnel_source if funnel_source in reports.FUNNEL_SOURCES else None  # unknown: all sources
    waiting, waiting_total = reports.orders_waiting_for_confirmation(now)
    chart_period = reports.last_days(now, CHART_DAYS, zone_name)
    return render_template(
        "admin/dashboard/index.html",
        totals=[
            reports.period_totals(reports.today(now, zone_name)),
            reports.period_totals(reports.this_week(now, zone_name)),
        ],
        waiting=waiting,
        waiting_total=waiting_total,
        funnel=reports.funnel(funnel_period, funnel_source),
        funnel_periods=funnel_periods.values(),
        funnel_sources=reports.FUNNEL_SOURCES,
        chart=bar_chart(reports.orders_per_day(chart_period)),
        chart_period=chart_period,
        recovered=reports.recovered_orders(chart_period),
        ratings=after_delivery_reports.rating_summary(now, zone_name),
        comments=after_delivery_reports.latest_comments(),
        outcomes=after_delivery_reports.delivery_outcomes(chart_period),
        medians=after_delivery_reports.median_times(chart_period),
    )
