"""URLs of the networks app (namespace "networks"): the clinician's network-member pages
(networks.views_members) and the peer pages (networks.peer_views). Keep the names stable.

Two pages of this namespace show meetings data and so live in meetings: `peer_person` and
`network_map` (meetings/urls.py `networks_urlpatterns`, joined to these in pod/urls.py).
"""

from django.urls import path

from networks import peer_views, views_members

app_name = "networks"

urlpatterns = [
    path("people/<int:person_pk>/members/", views_members.member_list, name="member_list"),
    path("people/<int:person_pk>/members/add/", views_members.member_add, name="member_add"),
    path(
        "people/<int:person_pk>/members/<int:pk>/edit/",
        views_members.member_edit,
        name="member_edit",
    ),
    path(
        "people/<int:person_pk>/members/<int:pk>/end/",
        views_members.member_end,
        name="member_end",
    ),
    # Peer work (networks.peer_views).
    path("peer/", peer_views.peer_caseload, name="peer_caseload"),
    path(
        "peer/people/<int:person_pk>/contacts/add/",
        peer_views.peer_contact_add,
        name="peer_contact_add",
    ),
    path(
        "peer/people/<int:person_pk>/contacts/<int:pk>/edit/",
        peer_views.peer_contact_edit,
        name="peer_contact_edit",
    ),
    path(
        "peer/people/<int:person_pk>/members/propose/",
        peer_views.member_propose,
        name="member_propose",
    ),
    path(
        "people/<int:person_pk>/members/<int:pk>/consent/",
        peer_views.member_consent,
        name="member_consent",
    ),
    path("peer-work/", peer_views.peer_work, name="peer_work"),
    path("people/<int:person_pk>/peers/", peer_views.peer_assignments, name="peer_assignments"),
    path(
        "people/<int:person_pk>/peers/<int:pk>/end/",
        peer_views.peer_unassign,
        name="peer_unassign",
    ),
]
