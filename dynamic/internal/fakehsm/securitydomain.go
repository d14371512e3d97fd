// This file holds the security domain endpoints: download (activation) with its pending status, the transfer
// key, and upload (restore) with its pending status, all with real cryptography from package securitydomain.

package fakehsm

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"

	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

// Data actions of the security domain endpoints.
const (
	actionSDDownload       = "Microsoft.KeyVault/managedHsm/securitydomain/download/action"
	actionSDDownloadRead   = "Microsoft.KeyVault/managedHsm/securitydomain/download/read"
	actionSDUpload         = "Microsoft.KeyVault/managedHsm/securitydomain/upload/action"
	actionSDUploadRead     = "Microsoft.KeyVault/managedHsm/securitydomain/upload/read"
	actionSDTransferKeyGet = "Microsoft.KeyVault/managedHsm/securitydomain/transferkey/read"
)

// Security domain operation statuses (SecurityDomainOperationStatus.status).
const (
	StatusInProgress = "InProgress"
	StatusSuccess    = "Success"
	StatusFailed     = "Failed"
)

// Sizes of the data items the fake puts into a downloaded domain.
const (
	sdItemCount = 3
	sdItemBytes = 64
)

// transferKeyBits keeps the transfer key at the minimum the CLI accepts; larger keys only slow tests.
const transferKeyBits = securitydomain.MinRSABits

// pendingOp is a long-running security domain operation: how many polls still answer InProgress.
type pendingOp struct {
	pollsLeft int
	done      bool
	// failure, when set, ends the operation Failed with these details instead of Success.
	failure string
	// items are installed when an upload succeeds.
	items []securitydomain.Item
}

// sdState is the security domain state of the HSM.
type sdState struct {
	activated bool
	domain    *securitydomain.File
	items     []securitydomain.Item
	download  *pendingOp
	upload    *pendingOp
	transfer  *securitydomain.KeyPair
}

// operationStatus is the SecurityDomainOperationStatus body.
type operationStatus struct {
	Status        string `json:"status"`
	StatusDetails string `json:"status_details"`
}

// downloadSecurityDomain activates the HSM: it builds a security domain shared to the request's
// certificates and answers 202 with the domain and the URL to poll.
func (s *Server) downloadSecurityDomain(c *call) *apiError {
	if err := s.authorize(c, actionSDDownload, "/"); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, c.r.Body, maxBodyBytes))
	if err != nil {
		return badParameter("reading the request body: %v", err)
	}
	s.mu.Lock()
	busy := s.sd.activated || s.sd.download != nil
	s.mu.Unlock()
	if busy {
		return newAPIError(http.StatusConflict, CodeConflict,
			"Security domain download is not allowed: the managed HSM is already activated.")
	}
	certs, quorum, err := securitydomain.ParseDownloadRequest(body)
	if err != nil {
		return badParameter("invalid security domain download request: %v", err)
	}
	plaintexts := make([][]byte, sdItemCount)
	for i := range plaintexts {
		plaintexts[i] = make([]byte, sdItemBytes)
		if _, err := rand.Read(plaintexts[i]); err != nil {
			return newAPIError(http.StatusInternalServerError, CodeInternalServerError, "drawing domain items")
		}
	}
	domain, err := securitydomain.Create(certs, quorum, plaintexts)
	if err != nil {
		return badParameter("creating the security domain: %v", err)
	}
	text, err := domain.Marshal()
	if err != nil {
		return newAPIError(http.StatusInternalServerError, CodeInternalServerError, err.Error())
	}
	envelope, err := securitydomain.WrapValue(text)
	if err != nil {
		return newAPIError(http.StatusInternalServerError, CodeInternalServerError, err.Error())
	}
	items := make([]securitydomain.Item, len(domain.EncData.Data))
	for i, d := range domain.EncData.Data {
		items[i] = securitydomain.Item{Tag: d.Tag, Plaintext: plaintexts[i]}
	}
	s.mu.Lock()
	if s.sd.activated || s.sd.download != nil {
		s.mu.Unlock()
		return newAPIError(http.StatusConflict, CodeConflict,
			"Security domain download is not allowed: the managed HSM is already activated.")
	}
	s.sd.domain, s.sd.items = domain, items
	if s.cfg.downloadBody != nil {
		envelope = s.cfg.downloadBody(envelope)
	}
	s.sd.download = &pendingOp{pollsLeft: s.cfg.pendingPolls}
	s.mu.Unlock()

	c.w.Header().Set("Azure-AsyncOperation", s.asyncOperationURL(c.r, "securitydomain/download/pending"))
	s.paceLRO(c.w)
	c.w.Header().Set("Content-Type", "application/json; charset=utf-8")
	c.w.WriteHeader(http.StatusAccepted)
	_, _ = c.w.Write(envelope)
	return nil
}

// downloadPending reports the download; the HSM becomes active when it reports Success.
func (s *Server) downloadPending(c *call) *apiError {
	if err := s.authorize(c, actionSDDownloadRead, "/"); err != nil {
		return err
	}
	s.mu.Lock()
	if op := s.sd.download; op != nil && !s.cfg.completeAt.IsZero() {
		op.pollsLeft = 0
		if s.now().Before(s.cfg.completeAt) {
			op.pollsLeft = 1
		}
	}
	st, err := pollLocked(s.sd.download, "download")
	if err == nil && st.Status == StatusSuccess {
		s.sd.activated = true
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.pacePending(c, st)
	writeJSON(c.w, http.StatusOK, st)
	return nil
}

// pacePending tells the client when to poll again while an operation is still in progress.
func (s *Server) pacePending(c *call, st operationStatus) {
	if st.Status == StatusInProgress {
		s.paceLRO(c.w)
	}
}

// pollLocked advances a pending operation by one poll.
func pollLocked(op *pendingOp, what string) (operationStatus, *apiError) {
	if op == nil {
		return operationStatus{}, newAPIError(http.StatusNotFound, CodeNotFound,
			fmt.Sprintf("No security domain %s operation was started.", what))
	}
	if !op.done && op.pollsLeft > 0 {
		op.pollsLeft--
		return operationStatus{Status: StatusInProgress}, nil
	}
	op.done = true
	if op.failure != "" {
		return operationStatus{Status: StatusFailed, StatusDetails: op.failure}, nil
	}
	return operationStatus{Status: StatusSuccess,
		StatusDetails: fmt.Sprintf("The security domain %s operation completed successfully.", what)}, nil
}

// transferKey answers the key a restore blob must be wrapped to, generating it on first use.
func (s *Server) transferKey(c *call) *apiError {
	if err := s.authorize(c, actionSDTransferKeyGet, "/"); err != nil {
		return err
	}
	kp, err := s.ensureTransferKey()
	if err != nil {
		return newAPIError(http.StatusInternalServerError, CodeInternalServerError, err.Error())
	}
	jwk, err := securitydomain.CertificateJWK(kp.Cert)
	if err != nil {
		return newAPIError(http.StatusInternalServerError, CodeInternalServerError, err.Error())
	}
	// API 7.5 (TransferKey) gives transfer_key as a JWK object; only older services sent it as a JSON string.
	jwk.Kid = s.base + "securitydomain/transferkey"
	jwk.KeyOps = []string{"encrypt"}
	writeJSON(c.w, http.StatusOK, struct {
		KeyFormat   string              `json:"key_format"`
		TransferKey *securitydomain.JWK `json:"transfer_key"`
	}{KeyFormat: "jwk", TransferKey: jwk})
	return nil
}

// ensureTransferKey returns the server's transfer key pair, generating it once.
func (s *Server) ensureTransferKey() (securitydomain.KeyPair, error) {
	s.mu.Lock()
	if s.sd.transfer != nil {
		kp := *s.sd.transfer
		s.mu.Unlock()
		return kp, nil
	}
	s.mu.Unlock()
	certPEM, keyPEM, err := securitydomain.GenerateKeyPair(transferKeyBits, "fakehsm transfer key")
	if err != nil {
		return securitydomain.KeyPair{}, fmt.Errorf("generating transfer key: %w", err)
	}
	kp, err := securitydomain.LoadKeyPair(certPEM, keyPEM)
	if err != nil {
		return securitydomain.KeyPair{}, fmt.Errorf("loading transfer key: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sd.transfer == nil { // a concurrent request may have won; keep the first key
		s.sd.transfer = &kp
	}
	return *s.sd.transfer, nil
}

// TransferKey returns the certificate and key of the transfer key handed out, or false before the first
// GET /securitydomain/upload.
func (s *Server) TransferKey() (securitydomain.KeyPair, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sd.transfer == nil {
		return securitydomain.KeyPair{}, false
	}
	return *s.sd.transfer, true
}

// uploadSecurityDomain restores a security domain: it opens the restore blob with the transfer key and
// answers 202; the HSM becomes active, holding the restored items, when the upload reports Success.
func (s *Server) uploadSecurityDomain(c *call) *apiError {
	if err := s.authorize(c, actionSDUpload, "/"); err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, c.r.Body, maxBodyBytes))
	if err != nil {
		return badParameter("reading the request body: %v", err)
	}
	s.mu.Lock()
	transfer, busy := s.sd.transfer, s.uploadBusyLocked()
	s.mu.Unlock()
	if busy {
		return newAPIError(http.StatusConflict, CodeConflict,
			"Security domain upload is not allowed: the managed HSM is already activated.")
	}
	if transfer == nil {
		return badParameter("no transfer key was issued: GET /securitydomain/upload first")
	}
	items, err := securitydomain.OpenRestoreBlob(body, *transfer)
	if err != nil {
		return badParameter("the security domain could not be restored: %v", err)
	}
	s.mu.Lock()
	if s.uploadBusyLocked() {
		s.mu.Unlock()
		return newAPIError(http.StatusConflict, CodeConflict,
			"Security domain upload is not allowed: the managed HSM is already activated.")
	}
	s.sd.upload = &pendingOp{pollsLeft: s.cfg.pendingPolls, failure: s.cfg.uploadFailure, items: items}
	s.mu.Unlock()

	c.w.Header().Set("Azure-AsyncOperation", s.asyncOperationURL(c.r, "securitydomain/upload/pending"))
	s.paceLRO(c.w)
	writeJSON(c.w, http.StatusAccepted, operationStatus{Status: StatusInProgress})
	return nil
}

// uploadBusyLocked reports whether an upload must be refused: the HSM is active or restoring. An upload that
// ended Failed may be tried again.
func (s *Server) uploadBusyLocked() bool {
	op := s.sd.upload
	failed := op != nil && op.done && op.failure != ""
	return s.sd.activated || op != nil && !failed
}

// randomItems draws the items of a security domain the fake was started with (WithActivated).
func randomItems() []securitydomain.Item {
	items := make([]securitydomain.Item, sdItemCount)
	for i := range items {
		tag, pt := make([]byte, 16), make([]byte, sdItemBytes)
		_, _ = rand.Read(tag) // crypto/rand.Read never fails
		_, _ = rand.Read(pt)
		items[i] = securitydomain.Item{Tag: hex.EncodeToString(tag), Plaintext: pt}
	}
	return items
}

// uploadPending reports the upload; the HSM becomes active when it reports Success.
func (s *Server) uploadPending(c *call) *apiError {
	if err := s.authorize(c, actionSDUploadRead, "/"); err != nil {
		return err
	}
	s.mu.Lock()
	st, err := pollLocked(s.sd.upload, "upload")
	if err == nil && st.Status == StatusSuccess && !s.sd.activated {
		s.sd.activated, s.sd.items = true, s.sd.upload.items
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.pacePending(c, st)
	writeJSON(c.w, http.StatusOK, st)
	return nil
}
