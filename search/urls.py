from django.urls import path

from search import api

urlpatterns = [
    path("search", api.SearchView.as_view(), name="search"),
    path("search/recent", api.RecentSearchesView.as_view(), name="search-recent"),
]
