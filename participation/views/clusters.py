"""Service Provider Clusters (commissioner, Commissioning Management): create, rename and delete
named clusters of the providers the ICB commissions, and add or remove providers.

Thin: the selectors read (a cluster of another ICB is not found: 404), the services write, check
and audit; a name already used or a provider the ICB does not commission is shown as the reason
(``DomainErrorsMixin``), and nothing changes.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView, View

from accounts import permissions
from accounts.inputs import id_or_none
from accounts.mixins import DomainErrorsMixin, RoleRequiredMixin
from accounts.models import Organisation, Role
from participation import selectors, services
from participation.forms import ClusterForm, ProviderSearchForm

from .links import url_with_query

PERMISSION = "participation.manage_clusters"


def _commissioners(user):
    ids = permissions.organisation_ids_with_role(user, {Role.COMMISSIONING_MANAGEMENT})
    return Organisation.objects.filter(pk__in=ids).order_by("name")


def _cluster_url(cluster_id: int, **query) -> str:
    return url_with_query(reverse("participation:cluster_detail", args=[cluster_id]), **query)


class ListClustersView(RoleRequiredMixin, DomainErrorsMixin, TemplateView):
    """Service Provider Clusters: the ICB's clusters with their number of providers, and Create
    Cluster."""

    permission = PERMISSION
    template_name = "participation/clusters.html"

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context.update(
            page_title="Service Provider Clusters",
            clusters=list(selectors.cluster_list(user=user)),
            form=form or ClusterForm(commissioners=_commissioners(user)),
        )
        return context

    def post(self, request, *args, **kwargs):
        commissioners = _commissioners(request.user)
        form = ClusterForm(request.POST, commissioners=commissioners)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        commissioner = form.cleaned_data.get("commissioner") or commissioners.first()
        cluster = services.cluster_create(
            user=request.user, commissioner_id=commissioner.pk, name=form.cleaned_data["name"]
        )
        messages.success(request, f"The cluster {cluster.name} has been created. Add its Service Providers.")
        return HttpResponseRedirect(_cluster_url(cluster.pk))


class ShowClusterView(RoleRequiredMixin, TemplateView):
    """One cluster: its providers (Remove from Cluster), the providers the ICB commissions that
    are not in it, found by name or ODS code (Add to Cluster), Rename and Delete."""

    permission = PERMISSION
    template_name = "participation/cluster_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        cluster = selectors.cluster_get(user=self.request.user, cluster_id=self.kwargs["cluster_id"])
        search = ProviderSearchForm(self.request.GET or None)
        query = search.cleaned_data["q"] if search.is_bound and search.is_valid() else ""
        context.update(
            page_title=cluster.name,
            cluster=cluster,
            members=list(selectors.cluster_member_list(cluster=cluster)),
            search_form=search,
            query=query,
            candidates=list(selectors.cluster_candidate_list(cluster=cluster, query=query)),
            rename_form=ClusterForm(initial={"name": cluster.name}),
        )
        return context


class RenameClusterView(RoleRequiredMixin, DomainErrorsMixin, View):
    """Rename: a name already used by another of the ICB's clusters is refused with the reason."""

    permission = PERMISSION
    http_method_names = ["post"]

    def error_url(self) -> str:
        return _cluster_url(self.kwargs["cluster_id"])

    def post(self, request, cluster_id: int):
        cluster = services.cluster_rename(user=request.user, cluster_id=cluster_id, name=request.POST.get("name", ""))
        messages.success(request, f"The cluster has been renamed {cluster.name}.")
        return HttpResponseRedirect(_cluster_url(cluster.pk))


class ChangeClusterProvidersView(RoleRequiredMixin, DomainErrorsMixin, View):
    """Add to Cluster / Remove from Cluster for the ticked providers (all or none)."""

    permission = PERMISSION
    http_method_names = ["post"]

    def error_url(self) -> str:
        return _cluster_url(self.kwargs["cluster_id"], q=self.request.POST.get("q", ""))

    def post(self, request, cluster_id: int):
        selectors.cluster_get(user=request.user, cluster_id=cluster_id)  # another ICB's: 404, whatever was posted
        action = request.POST.get("action")
        raw = request.POST.getlist("providers")
        ids = [id_or_none(value) for value in raw]
        if action not in ("add", "remove"):
            messages.error(request, "Select Add to Cluster or Remove from Cluster.")
            return HttpResponseRedirect(self.error_url())
        if None in ids:
            messages.error(request, "A Service Provider selected is not one your organisation commissions.")
            return HttpResponseRedirect(self.error_url())
        if action == "add":
            added = services.cluster_providers_add(user=request.user, cluster_id=cluster_id, provider_ids=ids)
            messages.success(request, f"{added} Service Provider(s) added to the cluster.")
        else:
            removed = services.cluster_providers_remove(user=request.user, cluster_id=cluster_id, provider_ids=ids)
            messages.success(request, f"{removed} Service Provider(s) removed from the cluster.")
        return HttpResponseRedirect(self.error_url())


class DeleteClusterView(RoleRequiredMixin, TemplateView):
    """Delete Cluster: "Are you sure...?" then Yes deletes it (the providers are not touched)."""

    permission = PERMISSION
    template_name = "participation/confirm_delete_cluster.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        cluster = selectors.cluster_get(user=self.request.user, cluster_id=self.kwargs["cluster_id"])
        context.update(
            page_title="Are you sure you want to delete this cluster?",
            cluster=cluster,
            back=_cluster_url(cluster.pk),
        )
        return context

    def post(self, request, cluster_id: int):
        name = services.cluster_delete(user=request.user, cluster_id=cluster_id)
        messages.success(request, f"The cluster {name} has been deleted.")
        return redirect("participation:clusters")
