from __future__ import annotations

from django.urls import path
from myapp import views

urlpatterns = [
    path("payments/<str:payment_id>/confirm", views.confirm_payment),
]
