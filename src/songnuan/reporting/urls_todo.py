from django.urls import path

from songnuan.reporting import views_todo

urlpatterns = [
    path("todo/", views_todo.todo, name="todo"),
]
