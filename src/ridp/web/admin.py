"""Django admin, for the programme admin only (after their second factor); anyone else gets 'not found'."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from ridp.web.middleware import VERIFIED

if TYPE_CHECKING:
    from django.contrib.admin.sites import _ViewType
from ridp.workspace.access import is_programme_admin
from ridp.workspace.models import City, Cohort, Membership, Programme, User


class ProgrammeAdminSite(admin.AdminSite):
    site_header = _("ridp administration")
    site_title = _("ridp administration")
    index_title = _("Programme, cities and people")

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return isinstance(user, User) and is_programme_admin(user) and bool(request.session.get(VERIFIED))

    def admin_view(self, view: _ViewType, cacheable: bool = False) -> _ViewType:
        wrapped = super().admin_view(view, cacheable)

        def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.user.is_authenticated and not self.has_permission(request):
                raise Http404  # not 'forbidden', not a login page: for everyone else there is no admin
            return wrapped(request, *args, **kwargs)

        return cast("_ViewType", inner)

    def login(self, request: HttpRequest, extra_context: dict[str, object] | None = None) -> HttpResponse:
        if self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        if request.user.is_authenticated:
            raise Http404  # the admin does not exist for anyone but the programme admin
        return HttpResponseRedirect(f"{reverse('login')}?next={request.get_full_path()}")


admin_site = ProgrammeAdminSite(name="admin")


class MembershipInline(admin.TabularInline[Membership, User]):
    model = Membership
    fk_name = "user"
    extra = 0


@admin.register(User, site=admin_site)
class PersonAdmin(UserAdmin[User]):
    inlines = (MembershipInline,)
    list_display = ("username", "email", "is_active", "last_login")
    list_filter = ("is_active",)


@admin.register(City, site=admin_site)
class CityAdmin(admin.ModelAdmin[City]):
    list_display = ("name", "slug", "cohort", "timezone")
    prepopulated_fields = {"slug": ("name",)}  # noqa: RUF012


@admin.register(Cohort, site=admin_site)
class CohortAdmin(admin.ModelAdmin[Cohort]):
    list_display = ("name", "year", "programme")


@admin.register(Programme, site=admin_site)
class ProgrammeAdmin(admin.ModelAdmin[Programme]):
    list_display = ("name", "created_at")


@admin.register(Membership, site=admin_site)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ("user", "role", "city", "created_at")
    list_filter = ("role", "city")
