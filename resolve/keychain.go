package resolve

import (
	"context"
	"io"
	"net/url"
	"strings"

	ecr "github.com/awslabs/amazon-ecr-credential-helper/ecr-login"
	ecrapi "github.com/awslabs/amazon-ecr-credential-helper/ecr-login/api"
	acr "github.com/chrismellard/docker-credential-acr-env/pkg/credhelper"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/authn/github"
	"github.com/google/go-containerregistry/pkg/v1/google"
)

// Keychain returns the credentials a Registry asks with by default:
// docker's config.json and podman's auth file first (authn.DefaultKeychain);
// where they hold nothing for a host, the credentials of that host's own
// cloud, found in this process as the cloud's credential helper finds them,
// so CI needs no 'docker login' step:
//
//   - Amazon ECR (ACCOUNT.dkr.ecr.REGION.amazonaws.com, .com.cn and the
//     other partitions): the AWS SDK's credentials (AWS_* variables,
//     ~/.aws, a task or instance role), through amazon-ecr-credential-helper;
//   - Google Artifact Registry and Container Registry (REGION-docker.pkg.dev,
//     gcr.io, *.gcr.io): application default credentials, then gcloud's;
//   - Azure Container Registry (*.azurecr.io, .cn, .de, .us): a service
//     principal, a federated token or a managed identity named by AZURE_*
//     variables, through docker-credential-acr-env;
//   - GitHub Container Registry (ghcr.io): GITHUB_TOKEN, as GITHUB_ACTOR.
//
// Each cloud is asked only for its own hosts: no other registry sees its
// credentials, and no cloud's metadata service is asked about another
// registry. A cloud that finds no credentials leaves the request anonymous.
func Keychain() authn.Keychain {
	return authn.NewMultiKeychain(authn.DefaultKeychain, cloudKeychain(clouds()))
}

// cloud is one registry family and the keychain that serves its hosts.
type cloud struct {
	name     string
	owns     func(host string) bool // host is lower case, without a port
	keychain authn.Keychain
}

func clouds() []cloud {
	return []cloud{
		{"Amazon ECR", isECR, authn.NewKeychainFromHelper(ecr.NewECRHelper(ecr.WithLogger(io.Discard)))},
		{"Google", isGoogle, google.Keychain},
		{"Azure", isACR, authn.NewKeychainFromHelper(acr.NewACRCredentialsHelper())},
		{"GitHub", isGHCR, github.Keychain},
	}
}

// isECR is a private ECR registry, by the credential helper's own pattern.
// ECR Public (public.ecr.aws) serves anonymous pulls and is left anonymous.
func isECR(host string) bool {
	r, err := ecrapi.ExtractRegistry(host)
	return err == nil && r.Service == ecrapi.ServiceECR
}

func isGoogle(host string) bool {
	return host == "gcr.io" || strings.HasSuffix(host, ".gcr.io") || strings.HasSuffix(host, "-docker.pkg.dev")
}

// isACR is an Azure Container Registry in any cloud. The helper's own test
// is not anchored (it takes acme.azurecr.io.example.com for ACR, and would
// send an Azure token there), and takes in mcr.microsoft.com, which is
// public.
func isACR(host string) bool {
	for _, suffix := range []string{".azurecr.io", ".azurecr.cn", ".azurecr.de", ".azurecr.us"} {
		if strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
			return true
		}
	}
	return false
}

func isGHCR(host string) bool { return host == "ghcr.io" }

// cloudKeychain asks the keychain of the cloud that owns the registry's
// host, and is anonymous for every other host.
type cloudKeychain []cloud

func (k cloudKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	return k.ResolveContext(context.Background(), r)
}

func (k cloudKeychain) ResolveContext(ctx context.Context, r authn.Resource) (authn.Authenticator, error) {
	if c, ok := k.owner(r.RegistryStr()); ok {
		return authn.Resolve(ctx, c.keychain, r)
	}
	return authn.Anonymous, nil
}

// owner returns the cloud that owns registry (a host, with or without a
// port).
func (k cloudKeychain) owner(registry string) (cloud, bool) {
	u, err := url.Parse("https://" + registry)
	if err != nil {
		return cloud{}, false
	}
	host := strings.ToLower(u.Hostname())
	for _, c := range k {
		if c.owns(host) {
			return c, true
		}
	}
	return cloud{}, false
}
