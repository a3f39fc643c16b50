from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "ridp.web"
    label = "web"
    verbose_name = "ridp web app"
