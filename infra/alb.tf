# Internet-facing Application Load Balancer in the public subnets.
#
# With var.domain_name set: an ACM certificate validated through the Route 53 zone of that name,
# an HTTPS listener (TLS 1.3/1.2 policy) forwarding to the tasks, port 80 redirecting to HTTPS,
# and an alias record for the domain. With no domain: a plain HTTP listener forwarding to the tasks
# (there is no certificate to serve); set a domain for anything but a trial.
#
# With var.deployment_strategy BLUE_GREEN, LINEAR or CANARY also: a second ("alternate") target
# group, a production listener rule that forwards to both with weights ECS moves during a
# deployment, and a test listener on var.test_listener_port (HTTPS like production when a domain is
# set; reachable only from var.test_listener_cidrs) whose rule ECS points at the new revision first.

locals {
  # Optional ALB access logs: the name of an existing S3 bucket that already lets Elastic Load
  # Balancing write to it (SSE-S3, the ELB log delivery bucket policy); null keeps them off.
  alb_access_logs_bucket = null
}

resource "aws_lb" "main" {
  name               = "${var.project_name}-alb"
  internal           = false
  load_balancer_type = "application"
  security_groups    = [aws_security_group.alb.id]
  subnets            = aws_subnet.public[*].id

  drop_invalid_header_fields = true
  enable_deletion_protection = true
  desync_mitigation_mode     = "defensive"
  enable_http2               = true
  idle_timeout               = 60

  dynamic "access_logs" {
    for_each = local.alb_access_logs_bucket == null ? [] : [local.alb_access_logs_bucket]

    content {
      bucket  = access_logs.value
      prefix  = "alb/${var.project_name}"
      enabled = true
    }
  }

  tags = {
    Name = "${var.project_name}-alb"
  }
}

resource "aws_lb_target_group" "model_service" {
  name        = "${var.project_name}-tg"
  port        = local.container_port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = aws_vpc.main.id

  # Short drain: deploys finish sooner; model-server requests are short.
  deregistration_delay = 30

  health_check {
    enabled             = true
    path                = "/health"
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = {
    Name = "${var.project_name}-tg"
  }
}

# --- HTTPS (var.domain_name set) -----------------------------------------------------------------

data "aws_route53_zone" "main" {
  count = local.https ? 1 : 0

  name         = var.domain_name
  private_zone = false
}

resource "aws_acm_certificate" "main" {
  count = local.https ? 1 : 0

  domain_name       = var.domain_name
  validation_method = "DNS"

  options {
    certificate_transparency_logging_preference = "ENABLED"
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_route53_record" "certificate_validation" {
  for_each = {
    for dvo in flatten(aws_acm_certificate.main[*].domain_validation_options) : dvo.domain_name => {
      name   = dvo.resource_record_name
      type   = dvo.resource_record_type
      record = dvo.resource_record_value
    }
  }

  zone_id         = data.aws_route53_zone.main[0].zone_id
  name            = each.value.name
  type            = each.value.type
  records         = [each.value.record]
  ttl             = 60
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "main" {
  count = local.https ? 1 : 0

  certificate_arn         = aws_acm_certificate.main[0].arn
  validation_record_fqdns = [for r in aws_route53_record.certificate_validation : r.fqdn]
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.main.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = aws_acm_certificate_validation.main[0].certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.model_service.arn
  }
}

resource "aws_lb_listener" "http_redirect" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_route53_record" "alb" {
  count = local.https ? 1 : 0

  zone_id = data.aws_route53_zone.main[0].zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_lb.main.dns_name
    zone_id                = aws_lb.main.zone_id
    evaluate_target_health = true
  }
}

# --- Plain HTTP (no domain) ----------------------------------------------------------------------

resource "aws_lb_listener" "http_forward" {
  count = local.https ? 0 : 1

  load_balancer_arn = aws_lb.main.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.model_service.arn
  }
}

# --- Traffic-shifting deployments (var.deployment_strategy BLUE_GREEN, LINEAR, CANARY) -----------
#
# ECS starts the new revision in whichever target group has no production traffic, sends test
# traffic to it through the test listener's rule, then shifts production traffic by rewriting the
# weights of the production listener rule (as the infrastructure role of iam.tf). Which target group
# is "blue" alternates from one deployment to the next, so the two are configured alike, and
# Terraform leaves the rules' actions to ECS once it has created them (ignore_changes).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html

resource "aws_lb_target_group" "model_service_alternate" {
  count = local.traffic_shift ? 1 : 0

  # "<project>-tg-alt" stays within AWS's 32 characters (project_name is at most 24).
  name        = "${var.project_name}-tg-alt"
  port        = local.container_port
  protocol    = "HTTP"
  target_type = "ip"
  vpc_id      = aws_vpc.main.id

  # As aws_lb_target_group.model_service: the two swap roles at every deployment.
  deregistration_delay = 30

  health_check {
    enabled             = true
    path                = "/health"
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = {
    Name = "${var.project_name}-tg-alt"
  }
}

# Every production request (path /*) goes through this rule, not the listener's default action.
resource "aws_lb_listener_rule" "production" {
  count = local.traffic_shift ? 1 : 0

  listener_arn = local.https ? aws_lb_listener.https[0].arn : aws_lb_listener.http_forward[0].arn
  priority     = 1

  action {
    type = "forward"

    forward {
      target_group {
        arn    = aws_lb_target_group.model_service.arn
        weight = 100
      }

      target_group {
        arn    = aws_lb_target_group.model_service_alternate[0].arn
        weight = 0
      }
    }
  }

  condition {
    path_pattern {
      values = ["/*"]
    }
  }

  # ECS moves the weights during deployments and leaves them on the target group it last deployed.
  lifecycle {
    ignore_changes = [action]
  }
}

# The test listener: the production listener's protocol, TLS policy and certificate, on another
# port. Outside a deployment its rule forwards where production traffic goes.
resource "aws_lb_listener" "test_https" {
  count = local.traffic_shift && local.https ? 1 : 0

  load_balancer_arn = aws_lb.main.arn
  port              = var.test_listener_port
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = aws_acm_certificate_validation.main[0].certificate_arn

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "Not found"
      status_code  = "404"
    }
  }
}

# No domain: plain HTTP, as the production listener is then (for trials only).
resource "aws_lb_listener" "test_http" {
  count = local.traffic_shift && !local.https ? 1 : 0

  load_balancer_arn = aws_lb.main.arn
  port              = var.test_listener_port
  protocol          = "HTTP"

  default_action {
    type = "fixed-response"

    fixed_response {
      content_type = "text/plain"
      message_body = "Not found"
      status_code  = "404"
    }
  }
}

resource "aws_lb_listener_rule" "test" {
  count = local.traffic_shift ? 1 : 0

  listener_arn = local.https ? aws_lb_listener.test_https[0].arn : aws_lb_listener.test_http[0].arn
  priority     = 1

  action {
    type = "forward"

    forward {
      target_group {
        arn    = aws_lb_target_group.model_service.arn
        weight = 100
      }

      target_group {
        arn    = aws_lb_target_group.model_service_alternate[0].arn
        weight = 0
      }
    }
  }

  condition {
    path_pattern {
      values = ["/*"]
    }
  }

  lifecycle {
    ignore_changes = [action]
  }
}
