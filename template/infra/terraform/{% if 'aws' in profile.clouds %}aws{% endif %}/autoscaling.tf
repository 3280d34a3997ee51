# Target tracking: the web service on CPU and on requests per task, the worker on CPU, each
# between the profile's min and max replicas.

locals {
  scaled = {
    web    = { service = aws_ecs_service.web.name, min = var.web_min_replicas, max = var.web_max_replicas }
    worker = { service = aws_ecs_service.worker.name, min = var.worker_min_replicas, max = var.worker_max_replicas }
  }
  # Requests per minute one web task takes when the fleet at its ceiling serves the SLA's
  # throughput: ALBRequestCountPerTarget is counted per minute.
  requests_per_task_per_minute = ceil(var.throughput_rps * 60 / var.web_max_replicas)
}

resource "aws_appautoscaling_target" "service" {
  for_each           = local.scaled
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${each.value.service}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = each.value.min
  max_capacity       = each.value.max
}

resource "aws_appautoscaling_policy" "cpu" {
  for_each           = local.scaled
  name               = "${var.name}-${each.key}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.service[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.service[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.service[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.autoscale_cpu_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "requests" {
  name               = "${var.name}-web-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.service["web"].service_namespace
  resource_id        = aws_appautoscaling_target.service["web"].resource_id
  scalable_dimension = aws_appautoscaling_target.service["web"].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = local.requests_per_task_per_minute
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.main.arn_suffix}/${aws_lb_target_group.web.arn_suffix}"
    }
  }
}
