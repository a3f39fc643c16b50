"""Every URL of the web app. Each route has a name; the authorisation matrix test lists them all."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from ridp.web.admin import admin_site
from ridp.web.api import api
from ridp.web.views import accounts, agreements, audit, catalog, cohorts, gates, home, meetings, projects, scoping, team
from ridp.web.views import analysis as analysis_views
from ridp.web.views import metrics as metric_views
from ridp.web.views import pilots as pilot_views
from ridp.web.views import quasi as quasi_views
from ridp.web.views import readiness as readiness_views

password_reset = [
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name="ridp/accounts/password_form.html",
            extra_context={"heading": _("Reset your password")},
            email_template_name="ridp/accounts/password_reset_email.txt",
            subject_template_name="ridp/accounts/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="ridp/accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="ridp/accounts/password_form.html", extra_context={"heading": _("Choose a new password")}
        ),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="ridp/accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path(
        "account/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="ridp/accounts/password_form.html", extra_context={"heading": _("Change your password")}
        ),
        name="password_change",
    ),
    path(
        "account/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="ridp/accounts/password_change_done.html"),
        name="password_change_done",
    ),
]

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", accounts.login_view, name="login"),
    path("login/two-factor/", accounts.two_factor_verify, name="two_factor_verify"),
    path("account/two-factor/", accounts.two_factor_setup, name="two_factor_setup"),
    path("logout/", accounts.logout_view, name="logout"),
    path("account/", accounts.account, name="account"),
    path("account/logout-everywhere/", accounts.logout_everywhere, name="logout_everywhere"),
    path("account/tokens/", accounts.token_create, name="token_create"),
    path("account/tokens/<int:token_id>/revoke/", accounts.token_revoke, name="token_revoke"),
    path("invitations/<str:token>/", accounts.invitation_accept, name="invitation_accept"),
    *password_reset,
    path("audit/", include(audit.urlpatterns)),
    path("c/<slug:city>/", home.city, name="city"),
    path("c/<slug:city>/data/", include(catalog.urlpatterns)),
    path("c/<slug:city>/data/<int:dataset_id>/readiness/", include(readiness_views.urlpatterns)),
    path("c/<slug:city>/data/<int:dataset_id>/quasi/", include(quasi_views.dataset_urlpatterns)),
    path("c/<slug:city>/agreements/", include(agreements.urlpatterns)),
    path("c/<slug:city>/team/", include(team.urlpatterns)),
    path("c/<slug:city>/projects/", include(projects.urlpatterns)),
    path(
        "c/<slug:city>/projects/<int:project_id>/",
        include([*scoping.urlpatterns, *meetings.urlpatterns, *gates.urlpatterns]),
    ),
    path("c/<slug:city>/projects/<int:project_id>/metrics/", include(metric_views.urlpatterns)),
    path("c/<slug:city>/projects/<int:project_id>/analysis/", include(analysis_views.urlpatterns)),
    path("c/<slug:city>/projects/<int:project_id>/pilots/", include(pilot_views.urlpatterns)),
    path("c/<slug:city>/projects/<int:project_id>/adoption/", include(quasi_views.project_urlpatterns)),
    path("", include(cohorts.urlpatterns)),
    path("api/", api.urls),
    path("admin/", admin_site.urls),
]

handler400 = "ridp.web.views.errors.bad_request"
handler403 = "ridp.web.views.errors.forbidden"
handler404 = "ridp.web.views.errors.not_found"
handler500 = "ridp.web.views.errors.server_error"
