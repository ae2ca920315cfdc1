from django.urls import path

from branding.api.views import BrandingView, ConfigView

urlpatterns = [
    path("branding", BrandingView.as_view(), name="branding"),
    path("config", ConfigView.as_view(), name="config"),
]
