"""Admin: the dashboard. Figures come from checkout/reports.py; this only picks the periods."""

from flask import render_template, request

from admin import admin_blueprint as bp
from admin.access import requires
from checkout import reports
from checkout.database import utcnow
from checkout.permissions import Permission

CHART_DAYS = 30


def _funnel_periods(now) -> dict[str, reports.Period]:
    periods = [reports.today(now), reports.this_week(now), reports.last_days(now, CHART_DAYS)]
    return {period.key: period for period in periods}


@bp.get("/dashboard")
@requires(Permission.VIEW_DASHBOARD)
def dashboard():
    now = utcnow()
    funnel_periods = _funnel_periods(now)
    funnel_period = funnel_periods.get(request.args.get("funnel", ""), funnel_periods[f"{CHART_DAYS}d"])
    waiting, waiting_total = reports.orders_waiting_for_confirmation(now)
    chart_period = reports.last_days(now, CHART_DAYS)
    return render_template(
        "admin/dashboard/index.html",
        totals=[reports.period_totals(reports.today(now)), reports.period_totals(reports.this_week(now))],
        waiting=waiting,
        waiting_total=waiting_total,
        funnel=reports.conversion_funnel(funnel_period),
        funnel_period=funnel_period,
        funnel_periods=funnel_periods.values(),
        chart=reports.bar_chart(reports.orders_per_day(chart_period)),
        chart_period=chart_period,
    )
