"""The fake's state as GitHub's REST JSON: the fields PyGithub reads, shaped like the API's
documented response schemas (tests check them against the OpenAPI description)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fakegithub.state import IssueComment, PullFile, PullRequest, Repo, Review, ReviewComment, User

_REPO_URL_SUFFIXES = {
    "archive_url": "/{archive_format}{/ref}",
    "assignees_url": "/assignees{/user}",
    "blobs_url": "/git/blobs{/sha}",
    "branches_url": "/branches{/branch}",
    "collaborators_url": "/collaborators{/collaborator}",
    "comments_url": "/comments{/number}",
    "commits_url": "/commits{/sha}",
    "compare_url": "/compare/{base}...{head}",
    "contents_url": "/contents/{+path}",
    "contributors_url": "/contributors",
    "deployments_url": "/deployments",
    "downloads_url": "/downloads",
    "events_url": "/events",
    "forks_url": "/forks",
    "git_commits_url": "/git/commits{/sha}",
    "git_refs_url": "/git/refs{/sha}",
    "git_tags_url": "/git/tags{/sha}",
    "hooks_url": "/hooks",
    "issue_comment_url": "/issues/comments{/number}",
    "issue_events_url": "/issues/events{/number}",
    "issues_url": "/issues{/number}",
    "keys_url": "/keys{/key_id}",
    "labels_url": "/labels{/name}",
    "languages_url": "/languages",
    "merges_url": "/merges",
    "milestones_url": "/milestones{/number}",
    "notifications_url": "/notifications{?since,all,participating}",
    "pulls_url": "/pulls{/number}",
    "releases_url": "/releases{/id}",
    "stargazers_url": "/stargazers",
    "statuses_url": "/statuses/{sha}",
    "subscribers_url": "/subscribers",
    "subscription_url": "/subscription",
    "tags_url": "/tags",
    "teams_url": "/teams",
    "trees_url": "/git/trees{/sha}",
}


@dataclass(frozen=True)
class Urls:
    """Where this server lives: `api` is PyGithub's base_url (GitHub Enterprise style)."""

    web: str  # http://127.0.0.1:PORT
    api: str  # http://127.0.0.1:PORT/api/v3

    def repo_api(self, repo: Repo) -> str:
        return f"{self.api}/repos/{repo.full_name}"

    def pull_web(self, pull: PullRequest) -> str:
        return f"{self.web}/{pull.repo.full_name}/pull/{pull.number}"


def user(urls: Urls, who: User) -> dict[str, Any]:
    api = f"{urls.api}/users/{quote(who.login)}"
    return {
        "login": who.login,
        "id": who.id,
        "node_id": f"{'BOT' if who.is_bot else 'U'}_fake{who.id}",
        "avatar_url": f"{urls.web}/avatars/{quote(who.login)}",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{urls.web}/apps/{quote(who.login.removesuffix('[bot]'))}"
        if who.is_bot
        else f"{urls.web}/{quote(who.login)}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": "Bot" if who.is_bot else "User",
        "site_admin": False,
    }


def repo(urls: Urls, repository: Repo, *, fork: bool = False) -> dict[str, Any]:
    api = urls.repo_api(repository)
    host = urls.web.split("://", 1)[1].split(":")[0]
    created = "2024-01-02T03:04:05Z"
    return {
        "id": repository.id,
        "node_id": f"R_fake{repository.id}",
        "name": repository.name,
        "full_name": repository.full_name,
        "owner": user(urls, repository.owner),
        "private": False,
        "html_url": f"{urls.web}/{repository.full_name}",
        "description": None,
        "fork": fork,
        "url": api,
        **{key: api + suffix for key, suffix in _REPO_URL_SUFFIXES.items()},
        "git_url": f"git://{host}/{repository.full_name}.git",
        "ssh_url": f"git@{host}:{repository.full_name}.git",
        "clone_url": f"{urls.web}/{repository.full_name}.git",
        "svn_url": f"{urls.web}/{repository.full_name}",
        "mirror_url": None,
        "homepage": None,
        "language": "Python",
        "forks": 0,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "watchers": 0,
        "size": 1,
        "default_branch": repository.default_branch,
        "open_issues": 0,
        "open_issues_count": 0,
        "has_issues": True,
        "has_projects": False,
        "has_wiki": False,
        "has_pages": False,
        "has_downloads": False,
        "archived": False,
        "disabled": False,
        "visibility": "public",
        "license": None,
        "pushed_at": created,
        "created_at": created,
        "updated_at": created,
    }


def pull(urls: Urls, pr: PullRequest) -> dict[str, Any]:
    api = f"{urls.repo_api(pr.repo)}/pulls/{pr.number}"
    issue = f"{urls.repo_api(pr.repo)}/issues/{pr.number}"
    html = urls.pull_web(pr)
    links = {
        "self": api,
        "html": html,
        "issue": issue,
        "comments": f"{issue}/comments",
        "review_comments": f"{api}/comments",
        "review_comment": f"{urls.repo_api(pr.repo)}/pulls/comments{{/number}}",
        "commits": f"{api}/commits",
        "statuses": f"{urls.repo_api(pr.repo)}/statuses/{pr.head_sha}",
    }
    return {
        "url": api,
        "id": pr.id,
        "node_id": pr.node_id,
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue,
        "commits_url": links["commits"],
        "review_comments_url": links["review_comments"],
        "review_comment_url": links["review_comment"],
        "comments_url": links["comments"],
        "statuses_url": links["statuses"],
        "number": pr.number,
        "state": pr.state,
        "locked": False,
        "title": pr.title,
        "user": user(urls, pr.user),
        "body": pr.body,
        "labels": [],
        "milestone": None,
        "active_lock_reason": None,
        "created_at": pr.created_at,
        "updated_at": pr.created_at,
        "closed_at": None,
        "merged_at": None,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": _branch(urls, pr.head_repo, pr.head_ref, pr.head_sha, fork=pr.head_repo is not pr.repo),
        "base": _branch(urls, pr.repo, pr.base_ref, pr.base_sha, fork=False),
        "_links": {name: {"href": href} for name, href in links.items()},
        "author_association": _association(pr, pr.user),
        "auto_merge": None,
        "draft": False,
        "merged": False,
        "mergeable": True,
        "rebaseable": True,
        "mergeable_state": "clean",
        "merged_by": None,
        "comments": len(pr.issue_comments),
        "review_comments": len(pr.review_comments),
        "maintainer_can_modify": False,
        "commits": len(pr.commits),
        "additions": sum(f.parsed.additions for f in pr.files),
        "deletions": sum(f.parsed.deletions for f in pr.files),
        "changed_files": len(pr.files),
    }


def pull_file(urls: Urls, pr: PullRequest, entry: PullFile) -> dict[str, Any]:
    path = quote(entry.filename)
    rendered: dict[str, Any] = {
        "sha": entry.blob_sha,
        "filename": entry.filename,
        "status": entry.status,
        "additions": entry.parsed.additions,
        "deletions": entry.parsed.deletions,
        "changes": entry.parsed.additions + entry.parsed.deletions,
        "blob_url": f"{urls.web}/{pr.repo.full_name}/blob/{pr.head_sha}/{path}",
        "raw_url": f"{urls.web}/{pr.repo.full_name}/raw/{pr.head_sha}/{path}",
        "contents_url": f"{urls.repo_api(pr.repo)}/contents/{path}?ref={pr.head_sha}",
    }
    if entry.patch is not None:
        rendered["patch"] = entry.patch
    if entry.previous_filename is not None:
        rendered["previous_filename"] = entry.previous_filename
    return rendered


def review_comment(urls: Urls, pr: PullRequest, comment: ReviewComment) -> dict[str, Any]:
    api = f"{urls.repo_api(pr.repo)}/pulls/comments/{comment.id}"
    html = f"{urls.pull_web(pr)}#discussion_r{comment.id}"
    pull_api = f"{urls.repo_api(pr.repo)}/pulls/{pr.number}"
    rendered: dict[str, Any] = {
        "url": api,
        "pull_request_review_id": comment.review_id,
        "id": comment.id,
        "node_id": comment.node_id,
        "diff_hunk": comment.diff_hunk,
        "path": comment.path,
        "position": comment.position,
        "original_position": comment.original_position,
        "commit_id": comment.commit_id,
        "original_commit_id": comment.original_commit_id,
        "user": user(urls, comment.user),
        "body": comment.body,
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
        "html_url": html,
        "pull_request_url": pull_api,
        "author_association": _association(pr, comment.user),
        "_links": {"self": {"href": api}, "html": {"href": html}, "pull_request": {"href": pull_api}},
        "start_line": comment.start_line,
        "original_start_line": comment.original_start_line,
        "start_side": comment.start_side,
        "line": comment.line,
        "original_line": comment.original_line,
        "side": comment.side,
        "subject_type": comment.subject_type,
    }
    if comment.in_reply_to is not None:
        rendered["in_reply_to_id"] = comment.in_reply_to
    return rendered


def review(urls: Urls, pr: PullRequest, posted: Review) -> dict[str, Any]:
    html = f"{urls.pull_web(pr)}#pullrequestreview-{posted.id}"
    pull_api = f"{urls.repo_api(pr.repo)}/pulls/{pr.number}"
    rendered: dict[str, Any] = {
        "id": posted.id,
        "node_id": posted.node_id,
        "user": user(urls, posted.user),
        "body": posted.body,
        "state": posted.state,
        "html_url": html,
        "pull_request_url": pull_api,
        "_links": {"html": {"href": html}, "pull_request": {"href": pull_api}},
        "commit_id": posted.commit_id,
        "author_association": _association(pr, posted.user),
    }
    if posted.submitted_at is not None:
        rendered["submitted_at"] = posted.submitted_at
    return rendered


def issue_comment(urls: Urls, pr: PullRequest, comment: IssueComment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "node_id": comment.node_id,
        "url": f"{urls.repo_api(pr.repo)}/issues/comments/{comment.id}",
        "html_url": f"{urls.pull_web(pr)}#issuecomment-{comment.id}",
        "body": comment.body,
        "user": user(urls, comment.user),
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
        "issue_url": f"{urls.repo_api(pr.repo)}/issues/{pr.number}",
        "author_association": _association(pr, comment.user),
        "performed_via_github_app": None,
    }


def _branch(urls: Urls, repository: Repo, ref: str, sha: str, *, fork: bool) -> dict[str, Any]:
    return {
        "label": f"{repository.owner.login}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": user(urls, repository.owner),
        "repo": repo(urls, repository, fork=fork),
    }


def _association(pr: PullRequest, who: User) -> str:
    if who is pr.repo.owner:
        return "OWNER"
    return "CONTRIBUTOR" if who is pr.user else "NONE"
