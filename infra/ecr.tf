# The model-server image repository. ecr-push pushes to it by digest-verified tags; tags are
# immutable, so a tag always means one image.

resource "aws_ecr_repository" "model_service" {
  name                 = local.ecr_repository
  image_tag_mutability = "IMMUTABLE"
  force_delete         = false

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "AES256"
  }
}

# Untagged images (left behind by re-tagging or failed pushes) go after 7 days; of the tagged
# ones the newest 30 are kept, enough to roll back well past any deploy.
resource "aws_ecr_lifecycle_policy" "model_service" {
  repository = aws_ecr_repository.model_service.name

  policy = <<-EOT
    {
      "rules": [
        {
          "rulePriority": 1,
          "description": "Expire untagged images after 7 days",
          "selection": {
            "tagStatus": "untagged",
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": 7
          },
          "action": {
            "type": "expire"
          }
        },
        {
          "rulePriority": 10,
          "description": "Keep the 30 most recent images",
          "selection": {
            "tagStatus": "any",
            "countType": "imageCountMoreThan",
            "countNumber": 30
          },
          "action": {
            "type": "expire"
          }
        }
      ]
    }
  EOT
}
